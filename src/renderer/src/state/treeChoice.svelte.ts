/**
 * The set-up's token trees (the CLI's --tree, --tree-budget, --tree-verify): shapes and node
 * budgets as chips, added by typing, and the verification way; what a sweep sends for them.
 */
import type { SweepSettings } from '../../../shared/protocol';
import { addTreeBudgets, addTreeShapes, TREE_VERIFY_OPTIONS } from '../lib/treeSetup';

type TreeSettings = Pick<SweepSettings, 'trees' | 'treeBudgets' | 'treeVerify'>;

export class TreeChoice {
  /** static shapes, in the order added */
  shapes = $state.raw<readonly (readonly number[])[]>([]);
  /** dynamic trees' node budgets, ascending */
  budgets = $state.raw<readonly number[]>([]);
  /** one of TREE_VERIFY_OPTIONS' values */
  verify = $state('auto');
  /** what is typed in the "add shape" and "add budget" inputs */
  shapeInput = $state('');
  budgetInput = $state('');
  /** why the last add was refused (a bad shape, a duplicate, too many) */
  message = $state<string | null>(null);

  get count(): number {
    return this.shapes.length + this.budgets.length;
  }

  /** what a sweep sends: nothing without a tree */
  get settings(): TreeSettings {
    if (this.count === 0) return {};
    const verify = TREE_VERIFY_OPTIONS.find((o) => o.value === this.verify)?.verify ?? ['auto'];
    return {
      ...(this.shapes.length > 0 ? { trees: this.shapes.map((s) => [...s]) } : {}),
      ...(this.budgets.length > 0 ? { treeBudgets: [...this.budgets] } : {}),
      treeVerify: [...verify],
    };
  }

  addShape(): boolean {
    const result = addTreeShapes(this.shapes, this.count, this.shapeInput);
    if (!result.ok) {
      this.message = result.message;
      return false;
    }
    this.shapes = result.values;
    this.shapeInput = '';
    this.message = null;
    return true;
  }

  addBudget(): boolean {
    const result = addTreeBudgets(this.budgets, this.count, this.budgetInput);
    if (!result.ok) {
      this.message = result.message;
      return false;
    }
    this.budgets = result.values;
    this.budgetInput = '';
    this.message = null;
    return true;
  }

  removeShape(index: number): void {
    this.shapes = this.shapes.filter((_, i) => i !== index);
    this.message = null;
  }

  removeBudget(budget: number): void {
    this.budgets = this.budgets.filter((b) => b !== budget);
    this.message = null;
  }
}
