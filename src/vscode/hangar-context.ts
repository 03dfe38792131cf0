import * as vscode from "vscode";
import { BoxStore } from "../core/boxes/box-store";
import { openHangarHome } from "../core/util/hangar-home";
import type { RubyEvaluator } from "../core/vagrantfile/ruby-evaluator";
import { TrustedRubyEvaluator } from "./workspace/workspace-trust";
import { ProjectFiles } from "./workspace/project-files";
import { WorkspaceMachines } from "./workspace/workspace-machines";
import { MachineTerminals } from "./terminals/machine-terminals";
import { DockerService } from "./docker/docker-service";
import { DockerTerminals } from "./terminals/docker-terminals";
import { InspectDocuments } from "./files/inspect-documents";

/**
 * What commands and views share: the log channel and the core services.
 * Services are created lazily on first use so activation stays cheap.
 */
export class HangarContext implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly projectFiles = new ProjectFiles();
  readonly machines: WorkspaceMachines;
  private terminalsService?: MachineTerminals;
  private boxStore?: BoxStore;
  private rubyEvaluator?: RubyEvaluator;
  private dockerService?: DockerService;
  private dockerTerminalsService?: DockerTerminals;
  /** Read-only JSON documents of "Inspect" (registered as a content provider at activation). */
  readonly inspectDocuments = new InspectDocuments();

  constructor(readonly extension: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel("Hangar", { log: true });
    this.machines = new WorkspaceMachines(this);
  }

  /** Machine terminals; registers the terminal profile provider. */
  get terminals(): MachineTerminals {
    return (this.terminalsService ??= new MachineTerminals(this));
  }

  /** The Docker endpoint behind the Images and Containers views; connects on first use. */
  get docker(): DockerService {
    return (this.dockerService ??= new DockerService(this));
  }

  /** Shells, logs and build logs of containers and images. */
  get dockerTerminals(): DockerTerminals {
    return (this.dockerTerminalsService ??= new DockerTerminals(this.docker));
  }

  /** Checked on every use (one stat): created 0700 when missing; another user's home is refused with a ForeignHangarHomeError. */
  get hangarHome(): string {
    return openHangarHome(vscode.workspace.getConfiguration("hangar").get<string>("home"));
  }

  get boxes(): BoxStore {
    const home = this.hangarHome;
    if (!this.boxStore || this.boxStore.root !== new BoxStore(home).root) this.boxStore = new BoxStore(home);
    return this.boxStore;
  }

  /** Evaluates Vagrantfiles (never in Restricted Mode); its Ruby process starts with the first evaluation, not here. */
  get ruby(): RubyEvaluator {
    return (this.rubyEvaluator ??= new TrustedRubyEvaluator());
  }

  dispose(): void {
    this.terminalsService?.dispose();
    this.dockerTerminalsService?.dispose();
    this.dockerService?.dispose();
    this.machines.dispose();
    this.rubyEvaluator?.dispose();
    this.log.dispose();
    this.projectFiles.dispose();
  }
}
