// The slice of the WebAssembly JS API Hangar calls. Node has it at run time,
// but @types/node does not declare it and the DOM lib would bring in browser
// globals the extension host does not have.
declare namespace WebAssembly {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface Module {}
  function compile(bytes: ArrayBufferView | ArrayBuffer): Promise<Module>;
}
