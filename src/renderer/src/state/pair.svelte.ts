/**
 * The model pair as chosen in the set-up: per role, where the model comes from (the embedded
 * pair's model by default, a local folder or a Hub model), its weight type and its execution
 * provider, and how the CPU computes a 4-bit file's products; and whether to use cached downloads
 * only. Nothing here is saved anywhere.
 */
import { SEED_PAIR, catalogEntry } from '../../../shared/catalog';
import type { CatalogPair } from '../../../shared/catalogPairs';
import type { Dtype, ExecutionProviderChoice, Q4Compute } from '../../../shared/decoding';
import { DEFAULT_Q4_COMPUTE } from '../../../shared/defaults';
import type { ChatTemplateChoice, ModelChoice, PairChoice } from '../../../shared/protocol';
import {
  checkModelSource,
  dtypeProblem,
  q4ComputeProblem,
  type SourceKind,
} from '../lib/modelChoice';

export type Role = 'target' | 'draft';

export class ModelRoleState {
  kind = $state<SourceKind>('embedded');
  /** a folder path (picked with the app's dialog, or typed in a browser) */
  folder = $state('');
  /** a Hub repo id or a catalog name, as typed or picked from the catalog */
  repo = $state('');
  dtype = $state<Dtype>('fp32');
  ep = $state<ExecutionProviderChoice>('auto');
  /** how the CPU computes a 4-bit file's MatMulNBits products (sent only where it applies) */
  q4Compute = $state<Q4Compute>(DEFAULT_Q4_COMPUTE);

  /** why the 4-bit compute mode does not apply to this model (its control is off), or null */
  get q4ComputeProblem(): string | null {
    return q4ComputeProblem(this.kind, this.dtype, this.ep);
  }

  /** why this choice cannot be sent, or null */
  get error(): string | null {
    const source = checkModelSource(this.kind, this.kind === 'folder' ? this.folder : this.repo);
    if (source || this.kind !== 'hub') return source;
    return dtypeProblem(catalogEntry(this.repo.trim()), this.dtype);
  }

  /** what the host is told: null for the embedded model */
  get source(): string | null {
    if (this.kind === 'folder') return this.folder.trim() || null;
    if (this.kind === 'hub') return this.repo.trim() || null;
    return null;
  }

  get choice(): ModelChoice {
    return {
      source: this.source,
      dtype: this.dtype,
      ep: this.ep,
      ...(this.q4ComputeProblem === null ? { q4Compute: this.q4Compute } : {}),
    };
  }

  /** a Hub model (by repo id or catalog name), in `dtype` when given */
  useHub(repo: string, dtype?: Dtype): void {
    this.kind = 'hub';
    this.pickCatalog(repo);
    if (dtype) this.dtype = dtype;
  }

  /** a catalog model picked from the list: fp32 when its repo lacks the weight type chosen */
  pickCatalog(name: string): void {
    this.repo = name;
    const entry = catalogEntry(name);
    if (entry && !entry.dtypes.includes(this.dtype)) this.dtype = 'fp32';
  }

  /** a folder; blank means the embedded model */
  useFolder(dir: string): void {
    const trimmed = dir.trim();
    this.folder = trimmed;
    this.kind = trimmed === '' ? 'embedded' : 'folder';
  }
}

export class PairState {
  readonly target = new ModelRoleState();
  readonly draft = new ModelRoleState();
  /** use the download cache only, never the network */
  offline = $state(false);
  /** auto: prompts rendered in the target's chat template where it has one; off: as written */
  chatTemplate = $state<ChatTemplateChoice>('auto');

  role(role: Role): ModelRoleState {
    return role === 'target' ? this.target : this.draft;
  }

  get pair(): PairChoice {
    return {
      target: this.target.choice,
      draft: this.draft.choice,
      offline: this.offline,
      chatTemplate: this.chatTemplate,
    };
  }

  /** the first role's problem, for the form as a whole */
  get error(): string | null {
    const target = this.target.error;
    if (target) return `Target model: ${target}`;
    const draft = this.draft.error;
    return draft ? `Draft model: ${draft}` : null;
  }

  /** at least one model comes from the Hub (so there is something to download) */
  get usesHub(): boolean {
    return this.target.kind === 'hub' || this.draft.kind === 'hub';
  }

  /** The exercise's pair from the Hub: gpt2 drafts for gpt2-medium. */
  seed(): void {
    this.target.useHub(SEED_PAIR.target);
    this.draft.useHub(SEED_PAIR.draft);
  }

  /** A natural pair of the catalog (catalogPairs.ts), both from the Hub in one weight type. */
  usePair(pair: CatalogPair, dtype: Dtype): void {
    this.target.useHub(pair.target, dtype);
    this.draft.useHub(pair.draft, dtype);
  }
}
