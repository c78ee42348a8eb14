/**
 * One dimension of one scope in process memory: counts per slot in a ring of `slots + 1` cells
 * plus a running total, so every operation is O(1) amortized (advancing over k slots costs k, and
 * each slot is cleared once) and memory is fixed per scope. The Redis script (`redis-scripts.ts`)
 * keeps the same state in a hash and follows the same steps; see `limiter.ts` for the semantics.
 *
 * Slots are absolute (`floor(epochMs / slotMs)`). At cursor slot c the live slots are c-k..c.
 */
export class SlidingWindowCounter {
  /** The newest slot this counter has advanced to; live slots are cursor-slots..cursor. */
  cursor: number;
  /** Sum of the live cells. */
  total = 0;
  /** The newest slot that received a positive charge (for the reset header), -1 if none. */
  newest = -1;
  private readonly cells: Float64Array;

  constructor(
    private readonly slots: number,
    startSlot: number,
  ) {
    this.cells = new Float64Array(slots + 1);
    this.cursor = startSlot;
  }

  private index(slot: number): number {
    const size = this.slots + 1;
    return ((slot % size) + size) % size;
  }

  /** Moves to `slot`, dropping slots that left the window. A slot behind the cursor is ignored. */
  advance(slot: number): void {
    if (slot <= this.cursor) return;
    if (slot - this.cursor > this.slots) {
      this.cells.fill(0);
      this.total = 0;
    } else {
      for (let expired = this.cursor - this.slots; expired <= slot - this.slots - 1; expired++) {
        const index = this.index(expired);
        this.total -= this.cells[index] ?? 0;
        this.cells[index] = 0;
      }
    }
    this.cursor = slot;
  }

  isLive(slot: number): boolean {
    return slot >= this.cursor - this.slots && slot <= this.cursor;
  }

  /** Adds (or with a negative amount, refunds) in a live slot; a cell never goes below zero. */
  add(slot: number, amount: number): void {
    const index = this.index(slot);
    const before = this.cells[index] ?? 0;
    const after = Math.max(0, before + amount);
    this.cells[index] = after;
    this.total += after - before;
    if (amount > 0 && slot > this.newest) this.newest = slot;
  }

  /**
   * The first slot at which `need` more fits under `limit` if nothing else is charged: walk the
   * live slots oldest first, freeing each as it would expire (slot j leaves at j + slots + 1).
   * Callers check `need <= limit` first (otherwise no slot fits).
   */
  slotWhenFits(need: number, limit: number): number {
    let freed = 0;
    for (let slot = this.cursor - this.slots; slot <= this.cursor; slot++) {
      freed += this.cells[this.index(slot)] ?? 0;
      if (this.total - freed + need <= limit) return slot + this.slots + 1;
    }
    return this.cursor + this.slots + 1;
  }

  /** The slot at which everything now counted has left the window, or null if nothing is. */
  resetSlot(): number | null {
    return this.total > 0 && this.newest >= 0 ? this.newest + this.slots + 1 : null;
  }
}
