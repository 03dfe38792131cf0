import { existsSync } from "node:fs";
import * as path from "node:path";
import { HangarError } from "../util/errors";

/**
 * Files the Ruby process needs. The build copies them into `dist/ruby/`
 * beside the bundles; from sources (tests) they come from node_modules and
 * this folder.
 */
export interface RubyRuntime {
  wasmFile: string;
  preludeFile: string;
  /** The script to fork, and the Node flags it needs. */
  hostScript: string;
  execArgv: string[];
}

// --no-incremental-marking: see ruby-host.ts (avoids a V8 abort seen under Node 20 while ruby.wasm grows its memory).
// --liftoff-only: ruby.wasm is large and a Vagrantfile's evaluation short, so V8's optimizing tier (compiling
// hot functions again on other threads) costs far more than it saves: `hangar status` with no daemon running
// went from 2.5 s and 3-4 core-seconds to 1.3 s and 1 core-second.
const GC_FLAGS = ["--no-incremental-marking", "--liftoff-only"];

export function locateRubyRuntime(searchFrom: string = __dirname): RubyRuntime {
  const bundled = path.join(searchFrom, "ruby");
  if (existsSync(path.join(bundled, "ruby+stdlib.wasm"))) {
    return {
      wasmFile: path.join(bundled, "ruby+stdlib.wasm"),
      preludeFile: path.join(bundled, "vagrant-dsl.rb"),
      hostScript: path.join(searchFrom, "ruby-host.js"),
      execArgv: GC_FLAGS,
    };
  }
  const root = path.resolve(__dirname, "..", "..", "..");
  const wasmFile = path.join(root, "node_modules", "@ruby", "3.3-wasm-wasi", "dist", "ruby+stdlib.wasm");
  if (!existsSync(wasmFile)) throw new HangarError(`Ruby for evaluating Vagrantfiles was not found (looked in ${bundled} and ${wasmFile}).`, "Run `npm run build` (or reinstall Hangar).");
  return {
    wasmFile,
    preludeFile: path.join(__dirname, "vagrant-dsl.rb"),
    hostScript: path.join(__dirname, "ruby-host.ts"),
    execArgv: [...GC_FLAGS, "--import", "tsx"],
  };
}
