/**
 * The guest is Linux whatever the host is, so host errors are sent as Linux
 * errno numbers, looked up by Node's portable error code (err.errno is the
 * host's own numbering, which differs on macOS and Windows).
 */
const LINUX_ERRNO: Record<string, number> = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EMFILE: 24,
  EFBIG: 27,
  ENOSPC: 28,
  EROFS: 30,
  EMLINK: 31,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  ENODATA: 61,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
  ENOTSUP: 95,
};

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  EBADF: 9,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  EROFS: 30,
  ELOOP: 40,
  EOPNOTSUPP: 95,
  EPROTO: 71,
} as const;

/** An error the server answers with (Rlerror) rather than a host exception. */
export class NinePError extends Error {
  constructor(
    readonly errno: number,
    message = `errno ${errno}`,
  ) {
    super(message);
  }
}

export function linuxErrno(err: unknown): number {
  if (err instanceof NinePError) return err.errno;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return (code && LINUX_ERRNO[code]) || ERRNO.EIO;
}
