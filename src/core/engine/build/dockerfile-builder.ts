import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errorMessage, HangarError } from "../../util/errors";
import { builtinImageName, ensureBuiltinImage } from "../images/builtin-images";
import { RegistryUnreachableError } from "../registry/registry-client";
import type { ImageContainerConfig } from "../images/image-config";
import { ImageNotFoundError } from "../images/image-errors";
import type { ImageStore, StoredImage } from "../images/image-store";
import { applyLayer } from "../images/layer-apply";
import { BuildCache } from "./build-cache";
import { findSources, placeSources, readInside, SourceError, type SourceRoot } from "./copy-sources";
import { DockerIgnore } from "./dockerignore";
import { existingPaths } from "./image-paths";
import { execForm, parseDockerfile, parseGoDuration, rawWords, shellWord, shellWords, splitFlags, type DockerfileInstruction, type Lookup } from "./dockerfile-parse";
import { itemsChecksum, normaliseItems, writeLayerTar, type LayerItem } from "./layer-tar-writer";

/**
 * Docker's classic (non-BuildKit) builder, on the host: each step makes an
 * intermediate image (parent = the previous step's), which also makes the
 * cache a plain map from step key to image. COPY/ADD/WORKDIR layers are
 * written here with tar-stream; only RUN needs a container, through
 * `runStep` (the engine machine).
 */

export interface RunStep {
  /**
   * Runs argv in a container of image `parentId` (env, workdir, user applied) and returns the container's filesystem
   * changes as an uncompressed layer tar file path (Docker whiteout format), or throws with the output. Changes inside
   * `volumes` (the image's VOLUME paths) are not part of it: Docker's RUN writes those into a volume, which the image
   * does not keep. The builder deletes the tar once stored.
   */
  run(o: { parentId: string; argv: string[]; env: string[]; workingDir: string; user: string; volumes: string[]; onOutput(chunk: Buffer): void }): Promise<{ layerTar: string; exitCode: number }>;
}

export interface BuildOptions {
  /** An extracted build context folder. */
  contextDir: string;
  /** Path relative to the context; default "Dockerfile". */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  noCache?: boolean;
  /** Build up to this stage (`--target`). */
  target?: string;
  platform?: string;
  store: ImageStore;
  /** For the built-in busybox image and the build cache file. */
  hangarHome: string;
  /** Absent: RUN fails, saying it needs the engine machine. */
  runStep?: RunStep;
  /** Pulls an image FROM names that the store lacks; undefined when it has no registry to come from. */
  pull?(ref: string): Promise<string | undefined>;
  /** Docker's legacy build output, one line per call, no newline. */
  onStream(line: string): void;
  signal?: AbortSignal;
}

/** A build failed; the message names the Dockerfile line. */
const KNOWN_INSTRUCTIONS = new Set([
  "FROM",
  "RUN",
  "COPY",
  "ADD",
  "ENV",
  "LABEL",
  "ARG",
  "WORKDIR",
  "USER",
  "CMD",
  "ENTRYPOINT",
  "EXPOSE",
  "VOLUME",
  "STOPSIGNAL",
  "SHELL",
  "HEALTHCHECK",
  "MAINTAINER",
  "ONBUILD",
]);

export class BuildError extends HangarError {}

/** Build args Docker accepts without an ARG and never warns about. */
const PREDEFINED_ARGS = new Set(["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"]);
const DEFAULT_SHELL = ["/bin/sh", "-c"];
const ACCEPTED_PLATFORMS = new Set(["linux/386", "linux/i386"]);

interface Stage {
  name?: string;
  index: number;
  imageId?: string;
  config: ImageContainerConfig;
  author?: string;
  args: Map<string, string | undefined>;
  cmdSet: boolean;
  /** Folders this build made in the stage (WORKDIR, COPY): a COPY destination naming one is a folder. */
  knownDirs: Set<string>;
}

export async function buildImage(o: BuildOptions): Promise<{ imageId: string }> {
  return new Builder(o).build();
}

class Builder {
  private readonly label: string;
  private readonly stages: Stage[] = [];
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly consumed = new Set<string>();
  private readonly buildArgs: Record<string, string>;
  private readonly flattened = new Map<string, string>();
  private cache!: BuildCache;
  private tmp!: string;
  private step = 0;
  private totalSteps = 0;
  private readonly created = new Date();
  private escape = "\\";

  constructor(private readonly o: BuildOptions) {
    this.label = (o.dockerfile ?? "Dockerfile").replace(/\\/g, "/");
    this.buildArgs = o.buildArgs ?? {};
  }

  async build(): Promise<{ imageId: string }> {
    const o = this.o;
    if (o.platform && !ACCEPTED_PLATFORMS.has(o.platform))
      throw new BuildError(`The platform "${o.platform}" is not supported: the embedded engine runs linux/386 only.`, "Build without --platform, or use Docker Engine for other platforms.");
    const context: SourceRoot = { dir: path.resolve(o.contextDir), label: "build context" };
    // Read inside the context (its symlinks confined to it), never through a host path.
    const bytes = await readInside(context, this.label).catch((err: unknown) => {
      if (err instanceof SourceError) throw new BuildError(`Cannot read ${this.label}: ${err.message}`);
      throw err;
    });
    if (!bytes) throw new BuildError(`Cannot read ${this.label} in the build context.`, "Check the path given with -f.");
    const text = bytes.toString("utf8");
    const parsed = parseDockerfile(text);
    this.escape = parsed.escape;
    let instructions = parsed.instructions;
    if (instructions.length === 0) throw new BuildError(`${this.label} is empty.`, "Add a FROM instruction.");
    const firstFrom = instructions.findIndex((i) => i.keyword === "FROM");
    if (firstFrom < 0) throw new BuildError(`${this.label} has no FROM instruction.`, "Start the build with FROM <image> or FROM scratch.");
    for (const ins of instructions.slice(0, firstFrom)) {
      if (ins.keyword !== "ARG") throw this.error(ins, `${ins.keyword} comes before FROM; only ARG may.`);
    }
    // As Docker's parser: an unknown instruction fails the build before any step runs (and leaves no images).
    const unknown = instructions.find((i) => !KNOWN_INSTRUCTIONS.has(i.keyword));
    if (unknown) throw this.error(unknown, `unknown instruction: ${unknown.keyword}`);
    if (o.target) {
      const stageStart = instructions.map((ins, i) => ({ ins, i })).filter(({ ins }) => ins.keyword === "FROM");
      const at = stageStart.findIndex(({ ins }) => fromStageName(ins.args)?.toLowerCase() === o.target?.toLowerCase());
      if (at < 0) throw new BuildError(`failed to reach build target ${o.target} in ${this.label}.`, "Check the stage names (FROM … AS name).");
      if (at + 1 < stageStart.length) instructions = instructions.slice(0, stageStart[at + 1].i);
    }
    this.totalSteps = instructions.length;
    this.cache = await BuildCache.open(o.hangarHome);
    this.tmp = await fs.mkdtemp(path.join(os.tmpdir(), "hangar-build-"));
    try {
      const ignoreText = (await readInside(context, ".dockerignore").catch(() => undefined))?.toString("utf8") ?? "";
      context.ignore = new DockerIgnore(ignoreText);
      for (const ins of instructions) {
        o.signal?.throwIfAborted();
        this.step++;
        o.onStream(`Step ${this.step}/${this.totalSteps} : ${ins.keyword} ${ins.args}`);
        await this.dispatch(ins, context, false);
      }
      const last = this.stages[this.stages.length - 1];
      if (!last?.imageId) throw new BuildError("No image was generated.", `Is ${this.label} empty? A stage FROM scratch needs at least one more instruction.`);
      const unused = Object.keys(this.buildArgs).filter((k) => !this.consumed.has(k) && !PREDEFINED_ARGS.has(k));
      if (unused.length > 0) o.onStream(`[Warning] One or more build-args [${unused.join(" ")}] were not consumed`);
      o.onStream(`Successfully built ${short(last.imageId)}`);
      for (const tag of o.tags ?? []) {
        await o.store.tag(last.imageId, tag);
        o.onStream(`Successfully tagged ${withLatest(tag)}`);
      }
      return { imageId: last.imageId };
    } finally {
      await fs.rm(this.tmp, { recursive: true, force: true });
    }
  }

  error(ins: DockerfileInstruction, message: string, hint?: string): BuildError {
    return new BuildError(`${this.label}:${ins.line}: ${message}`, hint);
  }

  private current(ins: DockerfileInstruction): Stage {
    const stage = this.stages[this.stages.length - 1];
    if (!stage) throw this.error(ins, `${ins.keyword} comes before FROM.`);
    return stage;
  }

  private lookup(stage: Stage): Lookup {
    const env = envMap(stage.config.Env);
    return (name) => (env.has(name) ? env.get(name) : stage.args.get(name));
  }

  private async dispatch(ins: DockerfileInstruction, context: SourceRoot, trigger: boolean): Promise<void> {
    try {
      await this.dispatchUnwrapped(ins, context, trigger);
    } catch (err) {
      if (err instanceof HangarError || this.o.signal?.aborted) throw err;
      if (err instanceof SourceError) throw this.error(ins, `${ins.keyword} failed: ${err.message}`);
      if (err instanceof SyntaxError) throw this.error(ins, `${ins.keyword}: ${err.message}`);
      throw this.error(ins, `${ins.keyword} failed: ${errorMessage(err)}`);
    }
  }

  private async dispatchUnwrapped(ins: DockerfileInstruction, context: SourceRoot, trigger: boolean): Promise<void> {
    const k = ins.keyword;
    if (k === "ARG" && this.stages.length === 0) return this.globalArg(ins);
    if (k === "FROM") {
      if (trigger) throw this.error(ins, "FROM is not allowed as an ONBUILD trigger.");
      return this.from(ins, context);
    }
    const stage = this.current(ins);
    const lookup = this.lookup(stage);
    const shell = stage.config.Shell ?? DEFAULT_SHELL;
    const config = clone(stage.config);
    const { flags, rest } = splitFlags(ins.args);
    const nop = (text: string): string => `${shell.join(" ")} #(nop)  ${text}`;
    switch (k) {
      case "RUN":
        return this.run(ins, stage, rest);
      case "COPY":
      case "ADD":
        return this.copy(ins, stage, flags, rest, context);
      case "ENV":
      case "LABEL": {
        const pairs = keyValues(rest, lookup, this.escape, ins, this);
        if (pairs.length === 0) throw this.error(ins, `${k} needs at least one name=value.`);
        if (k === "ENV") {
          const env = envMap(config.Env);
          for (const [key, value] of pairs) env.set(key, value);
          config.Env = [...env].map(([a, b]) => `${a}=${b}`);
        } else {
          config.Labels = { ...(config.Labels ?? {}) };
          for (const [key, value] of pairs) config.Labels[key] = value;
        }
        return this.commitMeta(stage, nop(`${k} ${pairs.map(([a, b]) => `${a}=${b}`).join(" ")}`), config);
      }
      case "ARG": {
        const parts = rawWords(rest, this.escape);
        if (parts.length === 0) throw this.error(ins, "ARG needs a name.");
        const shown: string[] = [];
        for (const part of parts) {
          const word = shellWord(part, lookup, this.escape);
          const eq = word.indexOf("=");
          const name = eq < 0 ? word : word.slice(0, eq);
          const dflt = eq < 0 ? (this.globalArgs.has(name) ? this.globalArgs.get(name) : undefined) : word.slice(eq + 1);
          if (name in this.buildArgs) this.consumed.add(name);
          stage.args.set(name, name in this.buildArgs ? this.buildArgs[name] : dflt);
          shown.push(eq < 0 ? name : `${name}=${dflt}`);
        }
        return this.commitMeta(stage, nop(`ARG ${shown.join(" ")}`), config, [...stage.args]);
      }
      case "WORKDIR": {
        const dir = shellWord(rest, lookup, this.escape);
        if (dir === "") throw this.error(ins, "WORKDIR needs a path.");
        const abs = path.posix.resolve(config.WorkingDir || "/", dir);
        config.WorkingDir = abs;
        // Only the folders the image lacks are made (root's, 0755); one it has keeps its owner and mode.
        const wanted = parentDirs(abs, this.created);
        const existing = await existingPaths(
          this.o.store,
          stage.imageId,
          wanted.map((i) => `/${i.name}`),
        );
        const items = wanted.filter((i) => !existing.has(`/${i.name}`) && !stage.knownDirs.has(`/${i.name}`));
        stage.knownDirs.add(abs);
        return this.commitLayer(stage, `${shell.join(" ")} #(nop) WORKDIR ${abs}`, config, items);
      }
      case "USER":
        config.User = shellWord(rest, lookup, this.escape);
        if (!config.User) throw this.error(ins, "USER needs a user name or ID.");
        return this.commitMeta(stage, nop(`USER ${config.User}`), config);
      case "CMD":
      case "ENTRYPOINT": {
        const argv = execForm(rest) ?? [...shell, rest];
        if (k === "CMD") {
          config.Cmd = argv;
          stage.cmdSet = true;
        } else {
          config.Entrypoint = argv;
          if (!stage.cmdSet) config.Cmd = null;
        }
        return this.commitMeta(stage, nop(`${k} [${argv.map((a) => JSON.stringify(a)).join(" ")}]`), config);
      }
      case "EXPOSE": {
        const ports = shellWords(rest, lookup, this.escape).flatMap((p) => exposePorts(p, ins, this));
        if (ports.length === 0) throw this.error(ins, "EXPOSE needs at least one port.");
        config.ExposedPorts = { ...(config.ExposedPorts ?? {}) };
        for (const p of ports) config.ExposedPorts[p] = {};
        return this.commitMeta(stage, nop(`EXPOSE ${ports.join(" ")}`), config);
      }
      case "VOLUME": {
        const vols = (execForm(rest)?.map((v) => shellWord(v, lookup, this.escape)) ?? shellWords(rest, lookup, this.escape)).filter((v) => v !== "");
        if (vols.length === 0) throw this.error(ins, "VOLUME needs at least one path.");
        config.Volumes = { ...(config.Volumes ?? {}) };
        for (const v of vols) config.Volumes[v] = {};
        return this.commitMeta(stage, nop(`VOLUME [${vols.join(" ")}]`), config);
      }
      case "STOPSIGNAL":
        config.StopSignal = shellWord(rest, lookup, this.escape);
        if (!/^(SIG[A-Z0-9+-]+|[A-Z0-9+-]+|\d+)$/.test(config.StopSignal)) throw this.error(ins, `STOPSIGNAL: "${config.StopSignal}" is not a signal name or number.`);
        return this.commitMeta(stage, nop(`STOPSIGNAL [${config.StopSignal}]`), config);
      case "SHELL": {
        const argv = execForm(rest);
        if (!argv || argv.length === 0) throw this.error(ins, 'SHELL needs the JSON form, e.g. SHELL ["/bin/bash", "-c"].');
        config.Shell = argv;
        return this.commitMeta(stage, nop(`SHELL [${argv.map((a) => JSON.stringify(a)).join(" ")}]`), config);
      }
      case "HEALTHCHECK":
        config.Healthcheck = healthcheck(flags, rest, ins, this);
        return this.commitMeta(stage, nop(`HEALTHCHECK ${ins.args}`), config);
      case "MAINTAINER":
        stage.author = rest;
        return this.commitMeta(stage, nop(`MAINTAINER ${rest}`), config);
      case "ONBUILD": {
        const triggerKeyword = /^\s*(\S+)/.exec(rest)?.[1]?.toUpperCase();
        if (!triggerKeyword) throw this.error(ins, "ONBUILD needs an instruction.");
        if (["ONBUILD", "FROM", "MAINTAINER"].includes(triggerKeyword)) throw this.error(ins, `${triggerKeyword} isn't allowed as an ONBUILD trigger.`);
        config.OnBuild = [...(config.OnBuild ?? []), rest];
        return this.commitMeta(stage, nop(`ONBUILD ${rest}`), config);
      }
      default:
        throw this.error(ins, `unknown instruction: ${k}`);
    }
  }

  private globalArg(ins: DockerfileInstruction): void {
    for (const part of rawWords(ins.args, this.escape)) {
      const word = shellWord(part, (n) => this.globalArgs.get(n), this.escape);
      const eq = word.indexOf("=");
      const name = eq < 0 ? word : word.slice(0, eq);
      if (name in this.buildArgs) this.consumed.add(name);
      this.globalArgs.set(name, name in this.buildArgs ? this.buildArgs[name] : eq < 0 ? undefined : word.slice(eq + 1));
    }
  }

  private async from(ins: DockerfileInstruction, context: SourceRoot): Promise<void> {
    const { flags, rest } = splitFlags(ins.args);
    const platform = flags.get("platform");
    const lookupGlobal: Lookup = (n) => this.globalArgs.get(n);
    if (platform !== undefined) {
      const p = shellWord(platform, lookupGlobal, this.escape);
      if (p && !ACCEPTED_PLATFORMS.has(p)) throw this.error(ins, `FROM --platform=${p} is not supported: the embedded engine runs linux/386 only.`, "Drop --platform or use linux/386.");
    }
    const words = shellWords(rest, lookupGlobal, this.escape);
    if (words.length !== 1 && !(words.length === 3 && words[1].toLowerCase() === "as")) throw this.error(ins, "FROM needs an image, optionally followed by AS <name>.");
    const ref = words[0];
    const name = words[2]?.toLowerCase();
    const stage: Stage = { name, index: this.stages.length, config: {}, args: new Map(), cmdSet: false, knownDirs: new Set() };
    if (ref.toLowerCase() !== "scratch") {
      const earlier = this.stages.find((s) => s.name !== undefined && s.name === ref.toLowerCase());
      if (earlier) {
        if (!earlier.imageId) throw this.error(ins, `FROM ${ref}: that stage produced no image.`);
        stage.imageId = earlier.imageId;
      } else stage.imageId = await this.baseImage(ins, ref);
      const image = await this.o.store.image(stage.imageId);
      stage.config = clone(image.config.config ?? {});
      stage.author = image.config.author || undefined;
    }
    this.stages.push(stage);
    this.o.onStream(` ---> ${stage.imageId ? short(stage.imageId) : "scratch"}`);
    const triggers = stage.config.OnBuild ?? [];
    if (triggers.length > 0) {
      this.o.onStream(`# Executing ${triggers.length} build trigger${triggers.length === 1 ? "" : "s"}`);
      stage.config.OnBuild = null;
      for (const trigger of triggers) {
        for (const t of parseDockerfile(trigger).instructions) await this.dispatch({ ...t, line: ins.line }, context, true);
      }
    }
  }

  private async baseImage(ins: DockerfileInstruction, ref: string): Promise<string> {
    try {
      return (await this.o.store.image(ref)).id;
    } catch (err) {
      if (!(err instanceof ImageNotFoundError)) throw err;
    }
    // The Debian images come from their registry when it answers; the built-in ones are made when it cannot be reached.
    const name = builtinImageName(ref);
    if (name && name !== "busybox" && this.o.pull) {
      try {
        const pulled = await this.o.pull(ref);
        if (pulled) return pulled;
      } catch (err) {
        if (!(err instanceof RegistryUnreachableError)) throw this.error(ins, `FROM ${ref}: ${errorMessage(err)}`);
      }
    }
    const builtin = await ensureBuiltinImage(this.o.store, ref, { hangarHome: this.o.hangarHome, signal: this.o.signal });
    if (builtin) return builtin.id;
    let pulled: string | undefined;
    try {
      pulled = await this.o.pull?.(ref);
    } catch (err) {
      throw this.error(ins, `FROM ${ref}: ${errorMessage(err)}`);
    }
    if (pulled) return pulled;
    throw this.error(
      ins,
      `FROM ${ref}: the image is not in the engine's image store, and its name has no registry to pull it from (no default registry is known).`,
      "Name its registry (host:5000/app), load it with `docker load`, build it first, or use busybox or scratch.",
    );
  }

  private async run(ins: DockerfileInstruction, stage: Stage, rest: string): Promise<void> {
    const shell = stage.config.Shell ?? DEFAULT_SHELL;
    const argv = execForm(rest) ?? [...shell, rest];
    const envKeys = envMap(stage.config.Env);
    const args = [...stage.args].filter(([n, v]) => v !== undefined && !envKeys.has(n)).sort(([a], [b]) => (a < b ? -1 : 1)) as Array<[string, string]>;
    const createdBy = `${args.length > 0 ? `|${args.length} ${args.map(([n, v]) => `${n}=${v}`).join(" ")} ` : ""}${argv.join(" ")}`;
    const key = BuildCache.key([stage.imageId ?? "scratch", createdBy, stage.config, stage.author ?? ""]);
    if (await this.useCache(stage, key)) return;
    const runStep = this.o.runStep;
    if (!runStep)
      throw this.error(
        ins,
        "RUN needs the engine machine, which is not available to this build.",
        "Start the embedded engine (or build with Docker Engine); COPY, ENV and the other instructions work without it.",
      );
    if (!stage.imageId) throw this.error(ins, "RUN in a stage FROM scratch: there is no shell or program to run.", "Start from an image that has one, e.g. FROM busybox.");
    const lines = new LineSplitter(this.o.onStream);
    const result = await runStep.run({
      parentId: stage.imageId,
      argv,
      env: [...(stage.config.Env ?? []), ...args.map(([n, v]) => `${n}=${v}`)],
      workingDir: stage.config.WorkingDir || "/",
      user: stage.config.User ?? "",
      volumes: Object.keys(stage.config.Volumes ?? {}),
      onOutput: (chunk) => lines.push(chunk),
    });
    lines.flush();
    try {
      if (result.exitCode !== 0) throw this.error(ins, `The command '${argv.join(" ")}' returned a non-zero code: ${result.exitCode}`);
      await this.create(stage, key, createdBy, stage.config, result.layerTar);
    } finally {
      await fs.rm(result.layerTar, { force: true });
    }
  }

  private async copy(ins: DockerfileInstruction, stage: Stage, flags: Map<string, string>, rest: string, context: SourceRoot): Promise<void> {
    const k = ins.keyword;
    const lookup = this.lookup(stage);
    for (const f of flags.keys()) if (!["from", "chown", "chmod"].includes(f) || (f === "from" && k === "ADD")) throw this.error(ins, `${k}: unknown flag --${f}.`);
    const words = (execForm(rest)?.map((w) => shellWord(w, lookup, this.escape)) ?? shellWords(rest, lookup, this.escape)).filter((w) => w !== "");
    if (words.length < 2) throw this.error(ins, `${k} needs at least one source and a destination.`);
    const dest = words[words.length - 1];
    const sources = words.slice(0, -1);
    for (const s of sources)
      if (k === "ADD" && /^(https?:\/\/|git@)/i.test(s)) throw this.error(ins, `ADD from a URL (${s}) is not supported yet.`, "Download the file into the build context and COPY it.");

    let root = context;
    const from = flags.get("from");
    if (from !== undefined) root = await this.stageRoot(ins, shellWord(from, lookup, this.escape));
    const { uid, gid } = flags.has("chown") ? await this.owner(ins, stage, shellWord(flags.get("chown") ?? "", lookup, this.escape)) : { uid: 0, gid: 0 };
    let chmod: number | undefined;
    if (flags.has("chmod")) {
      const text = flags.get("chmod") ?? "";
      if (!/^[0-7]{3,4}$/.test(text)) throw this.error(ins, `${k} --chmod=${text}: give the mode in octal, e.g. --chmod=755.`);
      chmod = parseInt(text, 8);
    }

    const matched = (await Promise.all(sources.map((s) => findSources(root, s)))).flat();
    const workdir = stage.config.WorkingDir || "/";
    const absDest = path.posix.resolve(workdir, dest);
    const destIsDir = /(^|\/)\.?$/.test(dest) || /\/\.$/.test(dest) || stage.knownDirs.has(absDest) || absDest === "/" || (matched.length === 1 && matched[0].stat.isDirectory());
    if ((matched.length > 1 || sources.length > 1) && !destIsDir) throw this.error(ins, `When using ${k} with more than one source file, the destination must be a directory and end with a /`);
    const placed = await placeSources(matched, { dest: absDest, destIsDir, uid, gid, chmod, ignore: root.ignore, extractArchives: k === "ADD" && from === undefined });
    const newest = placed.reduce((t, i) => Math.max(t, i.mtime.getTime()), 0);
    const items = normaliseItems([...parentDirs(destIsDir ? absDest : path.posix.dirname(absDest), new Date(newest)), ...placed]);
    for (const i of items) if (i.type === "directory") stage.knownDirs.add(`/${i.name}`);
    const checksum = await itemsChecksum(items);
    const kind = matched.length > 1 ? "multi" : matched[0].stat.isDirectory() ? "dir" : "file";
    const createdBy = `${(stage.config.Shell ?? DEFAULT_SHELL).join(" ")} #(nop) ${k}${from !== undefined ? ` --from=${from}` : ""} ${kind}:${checksum} in ${dest} `;
    const key = BuildCache.key([stage.imageId ?? "scratch", createdBy, stage.config, stage.author ?? "", checksum]);
    if (await this.useCache(stage, key)) return;
    const tarPath = path.join(this.tmp, `step-${this.step}-${Math.random().toString(16).slice(2)}.tar`);
    await writeLayerTar(tarPath, items);
    await this.create(stage, key, createdBy, stage.config, tarPath);
  }

  /** The filesystem of an earlier stage (name or index) or an image, flattened into a temp folder. */
  private async stageRoot(ins: DockerfileInstruction, from: string): Promise<SourceRoot> {
    const current = this.stages.length - 1;
    let stage = this.stages.slice(0, current).find((s) => s.name === from.toLowerCase());
    if (!stage && /^\d+$/.test(from)) {
      const index = Number(from);
      if (index >= current) throw this.error(ins, `--from=${from}: a stage can only copy from an earlier stage (0 to ${current - 1}).`);
      stage = this.stages[index];
    }
    const imageId = stage ? stage.imageId : await this.baseImage(ins, from);
    if (!imageId) return { dir: await fs.mkdtemp(path.join(this.tmp, "empty-")), label: `stage ${from}` };
    return { dir: await this.flatten(imageId), label: stage ? `stage ${from}` : `image ${from}` };
  }

  private async flatten(imageId: string): Promise<string> {
    const done = this.flattened.get(imageId);
    if (done) return done;
    const dir = await fs.mkdtemp(path.join(this.tmp, "rootfs-"));
    for (const layer of await this.o.store.layerFiles(imageId)) await applyLayer(layer, dir);
    this.flattened.set(imageId, dir);
    return dir;
  }

  /** --chown=user[:group]: numbers, or names from the stage's /etc/passwd and /etc/group. */
  private async owner(ins: DockerfileInstruction, stage: Stage, spec: string): Promise<{ uid: number; gid: number }> {
    const [user, group] = spec.split(":");
    if (!user) throw this.error(ins, `--chown=${spec}: give a user (and optionally :group), by name or number.`);
    const table = async (file: string): Promise<string[][]> => {
      if (!stage.imageId) return [];
      // The image's /etc/passwd may be a symlink: followed inside the image's files, never on the host.
      const text = (await readInside({ dir: await this.flatten(stage.imageId), label: "stage's files" }, file).catch(() => undefined))?.toString("utf8") ?? "";
      return text.split("\n").map((l) => l.split(":"));
    };
    const resolveId = async (name: string, file: string, what: string): Promise<{ id: number; gid?: number }> => {
      if (/^\d+$/.test(name)) return { id: Number(name) };
      const row = (await table(file)).find((r) => r[0] === name);
      if (!row || !/^\d+$/.test(row[2] ?? "")) throw this.error(ins, `--chown=${spec}: no ${what} "${name}" in the stage's /${file}.`, "Use numeric IDs, or create the user first.");
      return { id: Number(row[2]), gid: /^\d+$/.test(row[3] ?? "") ? Number(row[3]) : undefined };
    };
    const u = await resolveId(user, "etc/passwd", "user");
    if (group === undefined) return { uid: u.id, gid: u.gid ?? u.id };
    return { uid: u.id, gid: (await resolveId(group, "etc/group", "group")).id };
  }

  private async useCache(stage: Stage, key: string): Promise<boolean> {
    if (this.o.noCache) return false;
    const hit = this.cache.get(key);
    if (!hit) return false;
    let image: StoredImage;
    try {
      image = await this.o.store.image(hit);
    } catch (err) {
      if (err instanceof ImageNotFoundError) return false;
      throw err;
    }
    stage.imageId = hit;
    stage.config = clone(image.config.config ?? {});
    this.o.onStream(" ---> Using cache");
    this.o.onStream(` ---> ${short(hit)}`);
    return true;
  }

  private async commitMeta(stage: Stage, createdBy: string, config: ImageContainerConfig, extra: unknown = null): Promise<void> {
    const key = BuildCache.key([stage.imageId ?? "scratch", createdBy, config, stage.author ?? "", extra]);
    if (await this.useCache(stage, key)) {
      stage.config = config;
      return;
    }
    await this.create(stage, key, createdBy, config);
  }

  private async commitLayer(stage: Stage, createdBy: string, config: ImageContainerConfig, items: LayerItem[]): Promise<void> {
    const checksum = await itemsChecksum(items);
    const key = BuildCache.key([stage.imageId ?? "scratch", createdBy, config, stage.author ?? "", checksum]);
    if (await this.useCache(stage, key)) return;
    const tarPath = path.join(this.tmp, `step-${this.step}-${Math.random().toString(16).slice(2)}.tar`);
    await writeLayerTar(tarPath, items);
    await this.create(stage, key, createdBy, config, tarPath);
  }

  private async create(stage: Stage, key: string, createdBy: string, config: ImageContainerConfig, tarPath?: string): Promise<void> {
    const image = await this.o.store.create({
      config,
      parent: stage.imageId,
      layers: [tarPath ? { tarPath, createdBy } : { createdBy, emptyLayer: true }],
      created: this.created,
      author: stage.author,
    });
    stage.imageId = image.id;
    stage.config = clone(image.config.config ?? {});
    await this.cache.set(key, image.id);
    this.o.onStream(` ---> ${short(image.id)}`);
  }
}

function fromStageName(args: string): string | undefined {
  const words = splitFlags(args).rest.split(/\s+/);
  return words.length === 3 && words[1].toLowerCase() === "as" ? words[2] : undefined;
}

function keyValues(rest: string, lookup: Lookup, escape: string, ins: DockerfileInstruction, b: { error: (i: DockerfileInstruction, m: string) => BuildError }): Array<[string, string]> {
  const raw = rawWords(rest, escape);
  if (raw.length === 0) return [];
  if (!shellWord(raw[0], lookup, escape).includes("=")) {
    // The legacy form: `ENV name value with spaces`.
    const name = raw[0];
    const value = rest.slice(rest.indexOf(name) + name.length).trim();
    if (value === "") throw b.error(ins, `${ins.keyword} ${name} needs a value (${ins.keyword} ${name}=value).`);
    return [[name, shellWord(value, lookup, escape)]];
  }
  return raw.map((w) => {
    const word = shellWord(w, lookup, escape);
    const eq = word.indexOf("=");
    if (eq <= 0) throw b.error(ins, `${ins.keyword}: "${w}" is not name=value.`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

function exposePorts(spec: string, ins: DockerfileInstruction, b: { error: (i: DockerfileInstruction, m: string) => BuildError }): string[] {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(spec);
  if (!m) throw b.error(ins, `EXPOSE: "${spec}" is not a port (e.g. 80, 80/tcp, 53/udp, 8000-8002).`);
  const first = Number(m[1]);
  const last = m[2] ? Number(m[2]) : first;
  if (first < 1 || last > 65535 || last < first) throw b.error(ins, `EXPOSE: "${spec}" is out of the port range 1-65535.`);
  const proto = (m[3] ?? "tcp").toLowerCase();
  const out: string[] = [];
  for (let p = first; p <= last; p++) out.push(`${p}/${proto}`);
  return out;
}

function healthcheck(flags: Map<string, string>, rest: string, ins: DockerfileInstruction, b: { error: (i: DockerfileInstruction, m: string) => BuildError }): unknown {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(rest.trim());
  const kind = m?.[1].toUpperCase();
  if (kind === "NONE") {
    if (flags.size > 0 || m?.[2]) throw b.error(ins, "HEALTHCHECK NONE takes no other arguments.");
    return { Test: ["NONE"] };
  }
  if (kind !== "CMD" || !m?.[2]) throw b.error(ins, "HEALTHCHECK needs NONE or CMD <command>.");
  const hc: Record<string, unknown> = {};
  const test = execForm(m[2]);
  hc.Test = test ? ["CMD", ...test] : ["CMD-SHELL", m[2]];
  const durations: Array<[string, string]> = [
    ["interval", "Interval"],
    ["timeout", "Timeout"],
    ["start-period", "StartPeriod"],
    ["start-interval", "StartInterval"],
  ];
  for (const [flag, field] of durations) {
    const v = flags.get(flag);
    if (v === undefined) continue;
    const ns = parseGoDuration(v);
    if (ns === undefined) throw b.error(ins, `HEALTHCHECK --${flag}=${v}: not a duration (e.g. 30s, 1m30s).`);
    if (ns !== 0 && ns < 1e6) throw b.error(ins, `HEALTHCHECK --${flag} cannot be less than 1ms.`);
    if (ns) hc[field] = ns;
  }
  const retries = flags.get("retries");
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries)) throw b.error(ins, `HEALTHCHECK --retries=${retries}: not a number.`);
    if (Number(retries)) hc.Retries = Number(retries);
  }
  for (const f of flags.keys()) if (!["interval", "timeout", "start-period", "start-interval", "retries"].includes(f)) throw b.error(ins, `HEALTHCHECK: unknown flag --${f}.`);
  return hc;
}

/** Folder items for `dir` and its parents (root excluded), owned by root, mode 0755. */
function parentDirs(dir: string, mtime: Date): LayerItem[] {
  const parts = dir.split("/").filter(Boolean);
  const out: LayerItem[] = [];
  for (let i = 1; i <= parts.length; i++) {
    out.push({ name: parts.slice(0, i).join("/"), type: "directory", mode: 0o755, uid: 0, gid: 0, mtime });
  }
  return out;
}

function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf("=");
    if (eq < 0) m.set(e, "");
    else m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function short(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

function withLatest(tag: string): string {
  return /:[^/]+$/.test(tag) ? tag : `${tag}:latest`;
}

/** Turns RUN output chunks into lines for onStream. */
class LineSplitter {
  private pending = "";
  constructor(private readonly out: (line: string) => void) {}
  push(chunk: Buffer): void {
    const lines = (this.pending + chunk.toString("utf8")).split(/\r?\n/);
    this.pending = lines.pop() ?? "";
    for (const l of lines) this.out(l);
  }
  flush(): void {
    if (this.pending) this.out(this.pending);
    this.pending = "";
  }
}
