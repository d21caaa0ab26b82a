/* Promptster cast player: plays asciicast recordings into a <pre>.
 *
 * A small terminal emulator: printable text, CR/LF/BS/TAB, cursor movement, erase, insert and
 * delete, scroll regions, the alternate screen and SGR colours (16, 256 and true colour).
 * Everything else (OSC titles and hyperlinks, clipboard requests, DCS strings, mouse and
 * keyboard modes) is parsed and dropped. Characters only ever reach the page as text nodes,
 * so no byte of a recording can become markup, a link or a request.
 */
const PromptsterCast = (() => {
  "use strict";
  const GROUND = 0, ESC = 1, CSI = 2, OSC = 3, STR = 4, STR_ESC = 5, CHARSET = 6;
  const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]/;
  const blank = Object.freeze({ fg: null, bg: null, b: false, i: false, u: false, d: false, inv: false });

  function rgb256(n) {
    if (n < 16) return n;
    if (n < 232) {
      n -= 16;
      const c = [Math.floor(n / 36), Math.floor(n / 6) % 6, n % 6].map((v) => (v ? v * 40 + 55 : 0));
      return `rgb(${c[0]},${c[1]},${c[2]})`;
    }
    const g = (n - 232) * 10 + 8;
    return `rgb(${g},${g},${g})`;
  }

  class Screen {
    constructor(cols, rows) {
      this.cols = Math.max(2, Math.min(cols | 0, 400));
      this.rows = Math.max(2, Math.min(rows | 0, 200));
      this.reset();
    }

    reset() {
      this.attr = blank;
      this.lines = this.emptyLines(this.rows);
      this.other = null;
      this.cx = 0; this.cy = 0; this.saved = null;
      this.top = 0; this.bottom = this.rows - 1;
      this.state = GROUND; this.buf = ""; this.wrap = false; this.cursor = true;
      this.dirty = true;
    }

    emptyLines(n) { const out = []; for (let i = 0; i < n; i++) out.push(this.emptyLine()); return out; }
    emptyLine() { const line = new Array(this.cols); for (let i = 0; i < this.cols; i++) line[i] = [" ", blank]; return line; }

    resize(cols, rows) {
      cols = Math.max(2, Math.min(cols | 0, 400)); rows = Math.max(2, Math.min(rows | 0, 200));
      const offset = Math.max(0, this.cy - (rows - 1)); // keep the cursor's row on screen
      const fit = (lines) => {
        const out = [];
        for (let y = 0; y < rows; y++) {
          const src = lines[y + offset], line = [];
          for (let x = 0; x < cols; x++) line.push(src && src[x] ? src[x] : [" ", blank]);
          out.push(line);
        }
        return out;
      };
      this.lines = fit(this.lines);
      if (this.other !== null) this.other = fit(this.other);
      this.cols = cols; this.rows = rows;
      this.top = 0; this.bottom = rows - 1;
      this.cx = Math.min(this.cx, cols - 1); this.cy = Math.max(0, Math.min(this.cy - offset, rows - 1));
      this.dirty = true;
    }

    write(text) {
      for (const ch of text) this.feed(ch);
      this.dirty = true;
    }

    feed(ch) {
      const code = ch.codePointAt(0);
      switch (this.state) {
        case GROUND:
          if (code === 0x1b) { this.state = ESC; return; }
          if (code === 0x9b) { this.state = CSI; this.buf = ""; return; }
          if (code < 0x20 || code === 0x7f || (code >= 0x80 && code < 0xa0)) { this.control(code); return; }
          this.print(ch);
          return;
        case ESC:
          this.state = GROUND;
          this.escape(ch);
          return;
        case CSI:
          if (code >= 0x40 && code <= 0x7e) { this.state = GROUND; this.csi(this.buf, ch); return; }
          if (code === 0x1b) { this.state = ESC; return; }
          if (this.buf.length < 64) this.buf += ch;
          return;
        case OSC: case STR:
          if (code === 0x07 && this.state === OSC) { this.state = GROUND; return; }
          if (code === 0x9c) { this.state = GROUND; return; }
          if (code === 0x1b) { this.state = STR_ESC; return; }
          return; // titles, hyperlinks, clipboard, DCS payloads: dropped
        case STR_ESC:
          this.state = ch === "\\" ? GROUND : STR;
          return;
        case CHARSET:
          this.state = GROUND;
          return;
      }
    }

    control(code) {
      if (code === 0x0a || code === 0x0b || code === 0x0c) this.lineFeed();
      else if (code === 0x0d) { this.cx = 0; this.wrap = false; }
      else if (code === 0x08) { this.cx = Math.max(0, this.cx - 1); this.wrap = false; }
      else if (code === 0x09) this.cx = Math.min(this.cols - 1, (Math.floor(this.cx / 8) + 1) * 8);
    }

    print(ch) {
      if (BIDI.test(ch)) return; // direction overrides: a terminal shows none, neither do we
      if (this.wrap) { this.cx = 0; this.lineFeed(); this.wrap = false; }
      this.lines[this.cy][this.cx] = [ch, this.attr];
      if (this.cx >= this.cols - 1) this.wrap = true; else this.cx += 1;
    }

    lineFeed() {
      if (this.cy === this.bottom) this.scrollUp(1);
      else if (this.cy < this.rows - 1) this.cy += 1;
    }

    scrollUp(n) {
      for (let i = 0; i < n; i++) { this.lines.splice(this.top, 1); this.lines.splice(this.bottom, 0, this.emptyLine()); }
    }

    scrollDown(n) {
      for (let i = 0; i < n; i++) { this.lines.splice(this.bottom, 1); this.lines.splice(this.top, 0, this.emptyLine()); }
    }

    escape(ch) {
      switch (ch) {
        case "[": this.state = CSI; this.buf = ""; break;
        case "]": this.state = OSC; break;
        case "P": case "X": case "^": case "_": this.state = STR; break;
        case "(": case ")": case "*": case "+": case "#": case "%": this.state = CHARSET; break;
        case "7": this.saved = [this.cx, this.cy, this.attr]; break;
        case "8": if (this.saved) [this.cx, this.cy, this.attr] = this.saved; break;
        case "D": this.lineFeed(); break;
        case "E": this.cx = 0; this.lineFeed(); break;
        case "M": if (this.cy === this.top) this.scrollDown(1); else this.cy = Math.max(0, this.cy - 1); break;
        case "c": this.reset(); break;
        default: break;
      }
    }

    erase(y, from, to) {
      const line = this.lines[y];
      for (let x = Math.max(0, from); x < Math.min(to, this.cols); x++) line[x] = [" ", this.attr.bg === null ? blank : { ...blank, bg: this.attr.bg }];
    }

    csi(params, final) {
      const priv = params.startsWith("?");
      const nums = params.replace(/^[?>=!]/, "").split(";").map((p) => parseInt(p, 10));
      const n = (i, dflt = 1) => (Number.isFinite(nums[i]) && nums[i] > 0 ? Math.min(nums[i], 10000) : dflt);
      this.wrap = false;
      const clampX = (x) => Math.max(0, Math.min(this.cols - 1, x));
      const clampY = (y) => Math.max(0, Math.min(this.rows - 1, y));
      switch (final) {
        case "A": this.cy = Math.max(this.cy < this.top ? 0 : this.top, this.cy - n(0)); break;
        case "B": case "e": this.cy = Math.min(this.cy > this.bottom ? this.rows - 1 : this.bottom, this.cy + n(0)); break;
        case "C": case "a": this.cx = clampX(this.cx + n(0)); break;
        case "D": this.cx = clampX(this.cx - n(0)); break;
        case "E": this.cx = 0; this.cy = clampY(this.cy + n(0)); break;
        case "F": this.cx = 0; this.cy = clampY(this.cy - n(0)); break;
        case "G": case "`": this.cx = clampX(n(0) - 1); break;
        case "d": this.cy = clampY(n(0) - 1); break;
        case "H": case "f": this.cy = clampY(n(0) - 1); this.cx = clampX(n(1) - 1); break;
        case "J": {
          const mode = nums[0] || 0;
          if (mode === 0) { this.erase(this.cy, this.cx, this.cols); for (let y = this.cy + 1; y < this.rows; y++) this.erase(y, 0, this.cols); }
          else if (mode === 1) { this.erase(this.cy, 0, this.cx + 1); for (let y = 0; y < this.cy; y++) this.erase(y, 0, this.cols); }
          else for (let y = 0; y < this.rows; y++) this.erase(y, 0, this.cols);
          break;
        }
        case "K": {
          const mode = nums[0] || 0;
          if (mode === 0) this.erase(this.cy, this.cx, this.cols);
          else if (mode === 1) this.erase(this.cy, 0, this.cx + 1);
          else this.erase(this.cy, 0, this.cols);
          break;
        }
        case "X": this.erase(this.cy, this.cx, this.cx + n(0)); break;
        case "P": { const line = this.lines[this.cy]; line.splice(this.cx, Math.min(n(0), this.cols - this.cx)); while (line.length < this.cols) line.push([" ", blank]); break; }
        case "@": { const line = this.lines[this.cy]; for (let i = 0; i < Math.min(n(0), this.cols - this.cx); i++) line.splice(this.cx, 0, [" ", blank]); line.length = this.cols; break; }
        case "L": if (this.cy >= this.top && this.cy <= this.bottom) { const t = this.top; this.top = this.cy; this.scrollDown(Math.min(n(0), this.rows)); this.top = t; } break;
        case "M": if (this.cy >= this.top && this.cy <= this.bottom) { const t = this.top; this.top = this.cy; this.scrollUp(Math.min(n(0), this.rows)); this.top = t; } break;
        case "S": this.scrollUp(Math.min(n(0), this.rows)); break;
        case "T": if (!priv) this.scrollDown(Math.min(n(0), this.rows)); break;
        case "r": {
          const top = n(0) - 1, bottom = n(1, this.rows) - 1;
          if (top < bottom && bottom < this.rows) { this.top = top; this.bottom = bottom; this.cx = 0; this.cy = 0; }
          break;
        }
        case "s": this.saved = [this.cx, this.cy, this.attr]; break;
        case "u": if (this.saved) [this.cx, this.cy, this.attr] = this.saved; break;
        case "m": this.sgr(nums); break;
        case "h": case "l": if (priv) this.mode(nums, final === "h"); break;
        default: break; // device reports, mouse modes, keyboard protocols: nothing to show
      }
    }

    mode(nums, on) {
      for (const m of nums) {
        if (m === 25) this.cursor = on;
        if (m === 47 || m === 1047 || m === 1049) {
          if (on && this.other === null) { this.other = this.lines; this.lines = this.emptyLines(this.rows); }
          else if (!on && this.other !== null) { this.lines = this.other; this.other = null; }
        }
      }
    }

    sgr(nums) {
      if (nums.length === 0 || (nums.length === 1 && !Number.isFinite(nums[0]))) { this.attr = blank; return; }
      const a = { ...this.attr };
      for (let i = 0; i < nums.length; i++) {
        const p = Number.isFinite(nums[i]) ? nums[i] : 0;
        if (p === 0) Object.assign(a, blank);
        else if (p === 1) a.b = true;
        else if (p === 2) a.d = true;
        else if (p === 3) a.i = true;
        else if (p === 4) a.u = true;
        else if (p === 7) a.inv = true;
        else if (p === 22) { a.b = false; a.d = false; }
        else if (p === 23) a.i = false;
        else if (p === 24) a.u = false;
        else if (p === 27) a.inv = false;
        else if (p >= 30 && p <= 37) a.fg = p - 30;
        else if (p === 39) a.fg = null;
        else if (p >= 40 && p <= 47) a.bg = p - 40;
        else if (p === 49) a.bg = null;
        else if (p >= 90 && p <= 97) a.fg = p - 90 + 8;
        else if (p >= 100 && p <= 107) a.bg = p - 100 + 8;
        else if (p === 38 || p === 48) {
          let color = null;
          if (nums[i + 1] === 5 && Number.isFinite(nums[i + 2])) { color = rgb256(Math.max(0, Math.min(255, nums[i + 2]))); i += 2; }
          else if (nums[i + 1] === 2 && nums.length >= i + 5) {
            const c = nums.slice(i + 2, i + 5).map((v) => Math.max(0, Math.min(255, v | 0)));
            color = `rgb(${c[0]},${c[1]},${c[2]})`; i += 4;
          }
          if (p === 38) a.fg = color; else a.bg = color;
        }
      }
      this.attr = Object.freeze(a);
    }

    render(pre) {
      const frag = document.createDocumentFragment();
      for (let y = 0; y < this.rows; y++) {
        const line = this.lines[y];
        let run = "", runAttr = null, runCursor = false;
        const flush = () => {
          if (!run) return;
          frag.appendChild(styled(run, runAttr, runCursor));
          run = "";
        };
        for (let x = 0; x < this.cols; x++) {
          const [ch, attr] = line[x];
          const isCursor = this.cursor && x === this.cx && y === this.cy;
          if (attr !== runAttr || isCursor || runCursor) { flush(); runAttr = attr; runCursor = isCursor; }
          run += ch;
        }
        flush();
        if (y < this.rows - 1) frag.appendChild(document.createTextNode("\n"));
      }
      pre.replaceChildren(frag);
      this.dirty = false;
    }
  }

  function styled(text, attr, cursor) {
    if (attr === blank && !cursor) return document.createTextNode(text);
    const span = document.createElement("span");
    span.textContent = text;
    let fg = attr.fg, bg = attr.bg;
    if (attr.inv) [fg, bg] = [bg === null ? 0 : bg, fg === null ? 7 : fg];
    const classes = [];
    if (cursor) classes.push("cur");
    if (attr.b) classes.push("t-b");
    if (attr.i) classes.push("t-i");
    if (attr.u) classes.push("t-u");
    if (attr.d) classes.push("t-d");
    if (typeof fg === "number") classes.push("f" + fg); else if (typeof fg === "string") span.style.color = fg;
    if (typeof bg === "number") classes.push("g" + bg); else if (typeof bg === "string") span.style.backgroundColor = bg;
    span.className = classes.join(" ");
    return span;
  }

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return `${m}:${String(s).padStart(2, "0")}`;
  }

  class Player {
    constructor(ui, cast) {
      this.ui = ui;
      this.cast = cast;
      this.frames = Array.isArray(cast.frames) ? cast.frames.filter((f) => Array.isArray(f) && typeof f[2] === "string") : [];
      this.speed = 1;
      this.idle = true;
      this.retime();
      this.screen = new Screen(cast.width || 80, cast.height || 24);
      this.index = 0; this.pos = 0; this.playing = false; this.last = 0;
      this.screen.render(ui.screen);
      this.update();
    }

    retime() {
      // With "skip idle" on, pauses longer than 2 s play as 2 s (like asciinema's idle limit).
      this.times = [];
      let shift = 0, prev = 0;
      for (const f of this.frames) {
        const t = Number(f[0]) || 0;
        if (this.idle && t - prev > 2) shift += t - prev - 2;
        this.times.push(t - shift);
        prev = t;
      }
      this.duration = this.times.length ? this.times[this.times.length - 1] : 0;
    }

    setIdle(on) {
      const fraction = this.duration ? this.pos / this.duration : 0;
      this.idle = on; this.retime(); this.seek(fraction * this.duration);
    }

    apply(upTo) {
      while (this.index < this.frames.length && this.times[this.index] <= upTo) {
        const [, code, text] = this.frames[this.index];
        if (code === "o") this.screen.write(text);
        else if (code === "r") {
          const m = /^(\d+)x(\d+)$/.exec(text);
          if (m) this.screen.resize(+m[1], +m[2]);
        }
        this.index += 1;
      }
    }

    seek(pos) {
      pos = Math.max(0, Math.min(pos, this.duration));
      if (pos < this.pos || this.index === 0) {
        this.screen = new Screen(this.cast.width || 80, this.cast.height || 24);
        this.index = 0;
      }
      this.pos = pos;
      this.apply(pos);
      this.screen.render(this.ui.screen);
      this.update();
    }

    toggle() { if (this.playing) this.pause(); else this.play(); }

    play() {
      if (this.pos >= this.duration) this.seek(0);
      this.playing = true; this.last = performance.now();
      this.ui.play.textContent = "❚❚"; this.ui.play.setAttribute("aria-label", "Pause");
      const step = (now) => {
        if (!this.playing) return;
        this.pos = Math.min(this.duration, this.pos + ((now - this.last) / 1000) * this.speed);
        this.last = now;
        this.apply(this.pos);
        if (this.screen.dirty) this.screen.render(this.ui.screen);
        this.update();
        if (this.pos >= this.duration) this.pause(); else requestAnimationFrame(step);
      };
      requestAnimationFrame(step);
    }

    pause() {
      this.playing = false;
      this.ui.play.textContent = "▶"; this.ui.play.setAttribute("aria-label", "Play");
    }

    update() {
      this.ui.time.textContent = `${clock(this.pos)} / ${clock(this.duration)}`;
      this.ui.seek.value = String(this.duration ? Math.round((this.pos / this.duration) * 1000) : 0);
    }
  }

  return { Screen, Player };
})();
