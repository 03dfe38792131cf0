// The Ruby process: CRuby 3.3 compiled to WebAssembly (ruby.wasm), loaded once
// and reused for every Vagrantfile evaluation. It runs in its own Node process
// rather than a worker thread because a guest program can bring down the whole
// process (V8 aborted in GC while ruby.wasm grew its memory under Node 20,
// avoided with --no-incremental-marking but not worth risking the extension
// host over). Protocol over the IPC channel:
//   → { id, source, file, env }   ← { id, json } | { id, crash }
import { readFileSync } from "node:fs";
import { WASI } from "node:wasi";
import { RubyVM } from "@ruby/wasm-wasi/dist/vm";
import { locateRubyRuntime } from "./ruby-runtime";

interface Request {
  id: number;
  source: string;
  file: string;
  env: Record<string, string>;
}

async function start(): Promise<void> {
  const runtime = locateRubyRuntime(__dirname);
  const module = await WebAssembly.compile(readFileSync(runtime.wasmFile));
  // "/" is preopened as "/" so File.read, YAML.load_file and require_relative
  // see host paths unchanged. A Vagrantfile is a program the user chose to
  // run, as with Vagrant itself; it gets the user's file access, no more.
  const wasi = new WASI({ version: "preview1", env: {}, preopens: { "/": "/" }, returnOnExit: true });
  const { vm } = await RubyVM.instantiateModule({ module, wasip1: wasi });
  vm.eval(readFileSync(runtime.preludeFile, "utf8"));
  const evaluate = vm.eval("->(source, file, env) { Hangar.evaluate(source.to_s, file.to_s, JSON.parse(env.to_s)) }");
  process.on("message", (req: Request) => {
    let json: string;
    try {
      json = evaluate.call("call", vm.wrap(req.source), vm.wrap(req.file), vm.wrap(JSON.stringify(req.env))).toString();
    } catch (err) {
      // Hangar.evaluate rescues Ruby errors itself; this is the VM failing.
      process.send?.({ id: req.id, crash: err instanceof Error ? err.message : String(err) });
      return;
    }
    process.send?.({ id: req.id, json });
  });
  process.send?.({ ready: true });
}

start().catch((err: unknown) => {
  process.send?.({ fatal: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
