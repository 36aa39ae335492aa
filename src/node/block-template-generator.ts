/**
 * The seed's BlockTemplateGenerator: one template from the node, ready for job building. The
 * TemplateWatcher is what keeps a running pool supplied; this is the one-shot form (CLI checks,
 * tests, the seed's API).
 */
import { templateFromGbt, type BlockTemplate } from "../pool/template.ts";
import type { NodeAPI } from "./api.ts";

export class BlockTemplateGenerator {
  private nextId = 1;

  /** `nextTemplateId` lets the pool number templates (StratumV2Pool.allocateTemplateId). */
  constructor(
    private readonly nodeApi: NodeAPI,
    private readonly nextTemplateId: () => number = () => this.nextId++,
  ) {}

  /** Asks the node for a template; node failures and unusable templates throw StratumV2Error. */
  async generateTemplate(): Promise<BlockTemplate> {
    const gbt = await this.nodeApi.getBlockTemplate();
    return templateFromGbt(gbt, this.nextTemplateId());
  }
}
