// The Compose language server process (dist/compose-language-server.js),
// started by the extension's language client over IPC when a Compose file is
// opened: Microsoft's @microsoft/compose-language-service, which listens on
// the connection its command line names (--node-ipc / --stdio) as it loads.
import "@microsoft/compose-language-service";
