/**
 * Progress for long work, on stderr so that stdout stays clean for --json. On a terminal a line is
 * rewritten in place; otherwise one line per stage.
 */

/** A counter is redrawn at most this often (ms): faster is unreadable, and writing to a terminal costs time. */
const COUNT_REDRAW_MS = 100;

export interface Progress {
  stage(text: string): void;
  /** Fraction of a counted step, e.g. decoded slices. */
  count(text: string, done: number, total: number): void;
  done(): void;
  warn(text: string): void;
}

export function createProgress(enabled: boolean): Progress {
  const tty = process.stderr.isTTY === true;
  let open = false;
  let lastCount = 0;
  const clear = () => {
    if (open && tty) process.stderr.write('\r\x1b[K');
    open = false;
  };
  return {
    stage(text) {
      if (!enabled) return;
      clear();
      if (tty) {
        process.stderr.write(`${text}...`);
        open = true;
      } else {
        process.stderr.write(`${text}...\n`);
      }
    },
    count(text, done, total) {
      if (!enabled || !tty) return;
      const now = Date.now();
      if (done < total && now - lastCount < COUNT_REDRAW_MS) return;
      lastCount = now;
      clear();
      process.stderr.write(`${text} ${done}/${total}`);
      open = true;
    },
    done() {
      clear();
    },
    warn(text) {
      clear();
      process.stderr.write(`warning: ${text}\n`);
    },
  };
}
