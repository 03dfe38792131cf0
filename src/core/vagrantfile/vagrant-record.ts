/**
 * The JSON record vagrant-dsl.rb produces: what a Vagrantfile set, called and
 * read, with lines, before any merging or validation. Values are JSON
 * (symbols already strings).
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface RecordedCall {
  name: string;
  args: Json[];
  line: number | null;
}

export interface RecordedNames {
  name: string;
  line: number | null;
}

/** A namespace (config.ssh), provider block or provisioner block. */
export interface RecorderRecord {
  settings: JsonObject;
  lines: Record<string, number | null>;
  calls: RecordedCall[];
  reads: RecordedNames[];
}

export interface NetworkRecord {
  type: string;
  options: JsonObject;
  line: number | null;
}

export interface SyncedFolderRecord {
  hostPath: string;
  guestPath: string;
  options: JsonObject;
  line: number | null;
}

export interface ProvisionerRecord {
  name: string;
  options: JsonObject;
  block: RecorderRecord;
  line: number | null;
}

export interface ProviderRecord {
  name: string;
  options: JsonObject;
  block: RecorderRecord;
  line: number | null;
}

export interface DefineRecord {
  name: string;
  options: JsonObject;
  line: number | null;
}

export interface VmRecord extends RecorderRecord {
  networks: NetworkRecord[];
  syncedFolders: SyncedFolderRecord[];
  provisioners: ProvisionerRecord[];
  providers: ProviderRecord[];
  defines: DefineRecord[];
}

/** One `config` object: the global one, or the one a define block received. */
export interface ConfigRecord {
  vm: VmRecord;
  ssh?: RecorderRecord;
  vagrant?: RecorderRecord;
  winrm?: RecorderRecord;
  winssh?: RecorderRecord;
  unknownSections: RecordedNames[];
}

export interface MachineRecord {
  name: string;
  options: JsonObject;
  line: number | null;
  config: ConfigRecord;
}

export interface RubyError {
  message: string;
  /** Ruby's exception class, e.g. SyntaxError, NameError. */
  class: string;
  line: number | null;
}

export type EvaluationRecord = { global: ConfigRecord; machines: MachineRecord[]; configureLine: number | null; output: string; error?: undefined } | { error: RubyError; output: string };
