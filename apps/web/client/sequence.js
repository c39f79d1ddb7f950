/**
 * Where the subscription stands in the user's change sequence (contract §7).
 *
 * Every `notification` and `notification_update` carries `seq`, the number of
 * that change in the user's sequence (1, 2, 3, … with no gap). The tracker
 * remembers the last one applied, so that a message is applied once and in
 * order: a `seq` at or below it is a repeat, the next one is applied, a later
 * one reveals a gap that the changes feed fills first. The last `seq` is also
 * the resume point (`?since_seq=`).
 *
 * A server that does not send `seq` yet (contract v1) is still followed: the
 * tracker then resumes with `?since=<newest notification id>` and drops
 * repeated notifications by id.
 * @module sequence
 */

/** How many notification ids the v1 fallback remembers to drop repeats. */
const V1_DEDUPE_WINDOW = 1024;

export class SequenceTracker {
  /** @param {number | undefined} seq the last change already reflected by the application */
  constructor(seq) {
    this.seq = Number.isInteger(seq) && seq >= 0 ? seq : undefined;
    /** @type {string | undefined} newest notification id seen (v1 fallback) */
    this.newestId = undefined;
    this.seenIds = new Set();
  }

  /**
   * @param {{seq?: unknown, type: string, data?: any}} message a change message
   * @returns {'apply' | 'duplicate' | 'gap'}
   */
  classify(message) {
    const { seq } = message;
    if (!Number.isInteger(seq)) return this.classifyUnsequenced(message);
    if (this.seq === undefined) return 'apply';
    if (seq <= this.seq) return 'duplicate';
    return seq === this.seq + 1 ? 'apply' : 'gap';
  }

  /** Records that `message` was applied. */
  applied(message) {
    if (Number.isInteger(message.seq)) this.seq = message.seq;
    const id = message.type === 'notification' ? message.data?.notification_id : undefined;
    if (typeof id === 'string') this.rememberId(id);
  }

  /** After a `resync`: the application reloaded the inbox as of `seq`. */
  resetTo(seq) {
    this.seq = Number.isInteger(seq) && seq >= 0 ? seq : undefined;
  }

  /** @returns {Record<string, string>} the resume query parameters for the next connection */
  resumeQuery() {
    if (this.seq !== undefined) return { since_seq: String(this.seq) };
    if (this.newestId !== undefined) return { since: this.newestId };
    return {};
  }

  /** v1: a notification without `seq` is a repeat when its id was seen. */
  classifyUnsequenced(message) {
    const id = message.type === 'notification' ? message.data?.notification_id : undefined;
    return typeof id === 'string' && this.seenIds.has(id) ? 'duplicate' : 'apply';
  }

  rememberId(id) {
    this.seenIds.add(id);
    if (this.seenIds.size > V1_DEDUPE_WINDOW) {
      this.seenIds.delete(this.seenIds.values().next().value);
    }
    // UUIDv7 ids sort by creation time, so the greatest is the newest.
    if (this.newestId === undefined || id > this.newestId) this.newestId = id;
  }
}
