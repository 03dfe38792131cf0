/** The file type bits of a POSIX mode (S_IFMT's values), as cpio headers and ext inodes store them. */
export const FILE_TYPE_BITS = {
  file: 0o100000,
  directory: 0o040000,
  symlink: 0o120000,
  "char-device": 0o020000,
  "block-device": 0o060000,
  fifo: 0o010000,
} as const;
