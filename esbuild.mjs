// Builds the two bundles and copies runtime assets into dist/:
//   src/extension.ts -> dist/extension.js   (CommonJS, `vscode` external)
//   src/cli/main.ts  -> dist/cli.js         (CommonJS, executable `hangar`)
//   src/core/vagrantfile/ruby-host.ts -> dist/ruby-host.js (the Ruby process)
//   src/core/emulator/emulator-worker.ts -> dist/emulator-worker.js (one per running machine)
//   src/engine-main.ts -> dist/engine.js    (the container engine's Docker API server, started by `hangar engine start`)
//   src/compose-language-server.ts -> dist/compose-language-server.js (Compose completion/hover/diagnostics, an LSP server)
//   src/vscode/language/compose/compose-language-client.ts -> dist/compose-language-client.js (its client, loaded on demand)
//   v86's ESM build and wasm -> dist/v86/  (loaded at run time, see src/core/emulator/v86-runtime.ts)
//   ruby.wasm and the Vagrant DSL -> dist/ruby/ (see src/core/vagrantfile/ruby-runtime.ts)
// Flags: --watch rebuilds on change; --production minifies.
import * as esbuild from "esbuild";
import { chmod, cp, mkdir, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(import.meta.url);
const watch = process.argv.includes("--watch");
const production = process.argv.includes("--production");
const v86Build = path.dirname(require.resolve("v86/build/libv86.mjs"));
const rubyWasm = require.resolve("@ruby/3.3-wasm-wasi/dist/ruby+stdlib.wasm");

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  sourcemap: production ? false : "linked",
  minify: production,
  logLevel: "info",
  // ssh2's optional native add-ons: left as failing requires, ssh2 falls back to pure JS (no per-platform binaries shipped).
  external: ["*.node"],
};

async function copyAssets() {
  await mkdir("dist/v86", { recursive: true });
  for (const file of ["libv86.mjs", "v86.wasm"]) await cp(path.join(v86Build, file), path.join("dist/v86", file));
  await cp(path.join(path.dirname(v86Build), "LICENSE"), "dist/v86/LICENSE");
  await mkdir("dist/ruby", { recursive: true });
  await cp(rubyWasm, "dist/ruby/ruby+stdlib.wasm");
  await cp(path.join(path.dirname(rubyWasm), "LICENSE"), "dist/ruby/LICENSE");
  await cp("src/core/vagrantfile/vagrant-dsl.rb", "dist/ruby/vagrant-dsl.rb");
  await mkdir("dist/runtime", { recursive: true });
  await cp("src/core/engine/runtime/container-runtime.sh", "dist/runtime/container-runtime.sh");
  await mkdir("dist/images", { recursive: true });
  await cp("src/core/engine/images/busybox-adduser.sh", "dist/images/busybox-adduser.sh");
}

// dockerode loads gRPC and protobuf for BuildKit sessions (build version "2"), which Hangar never asks
// for; leaving them out keeps ~0.6 MB of parsing off activation. Required as empty modules: session.js
// only touches them inside a session.
const noBuildKitSession = {
  name: "no-buildkit-session",
  setup(build) {
    build.onResolve({ filter: /^(@grpc\/grpc-js|@grpc\/proto-loader|protobufjs)(\/|$)/ }, (args) => ({ path: args.path, namespace: "no-buildkit-session" }));
    build.onLoad({ filter: /.*/, namespace: "no-buildkit-session" }, () => ({ contents: "module.exports = {};", loader: "js" }));
  },
};

const builds = [
  {
    ...common,
    entryPoints: { extension: "src/extension.ts" },
    outdir: "dist",
    external: ["vscode", "*.node"],
    plugins: [noBuildKitSession],
    // First statement of the bundle: activation time is measured from here.
    banner: { js: "var __hangarLoadStart = performance.now();" },
  },
  {
    ...common,
    entryPoints: {
      cli: "src/cli/main.ts",
      daemon: "src/cli/daemon.ts",
      "ruby-host": "src/core/vagrantfile/ruby-host.ts",
      "emulator-worker": "src/core/emulator/emulator-worker.ts",
      engine: "src/engine-main.ts",
      "compose-language-server": "src/compose-language-server.ts",
    },
    outdir: "dist", // the source's #! line is kept by esbuild
  },
  {
    ...common,
    // Loaded by the extension at the first Compose document (src/vscode/language/registerLanguages.ts), not at activation.
    entryPoints: { "compose-language-client": "src/vscode/language/compose/compose-language-client.ts" },
    outdir: "dist",
    external: ["vscode", "*.node"],
  },
];

await rm("dist", { recursive: true, force: true });
await copyAssets();
if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
  await chmod("dist/cli.js", 0o755);
}
