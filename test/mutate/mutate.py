#!/usr/bin/env python3
"""
Granite's mutation campaign: plants one small bug at a time in the code
where a bug is a security hole (test/mutate/targets.txt), rebuilds, runs the
tests that ought to notice, and reports which test and which assertion
caught each mutant, or that none did. docs/security.md says how to read it.

  ./granite mutate [--sample] [--seed N] [--only FILE] [--jobs N] [--max N]
                   [--retry-survivors] [--list] [--fresh]

Each worker copies the source tree into its own scratch directory under the
build directory and mutates the copy, so the developer's tree is never
touched, even if the campaign is killed. Results are appended to
<build>/mutate/state.jsonl keyed by mutant id; a rerun skips mutants that
have a result. The report is <build>/mutate/report.md.

A mutant id is a hash of (file, original line, mutated line), so it stays the
same when other lines move; test/mutate/equivalent.txt keys the reasons why a
survivor cannot be told from the original by those ids, and
test/mutate/sample.txt names the mutants `mutate.sample` (in ./granite test)
must see killed.
"""
import argparse
import copy
import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(HERE, "targets.txt")
EQUIVALENT = os.path.join(HERE, "equivalent.txt")
SAMPLE = os.path.join(HERE, "sample.txt")

# ---------------------------------------------------------------- targets


class Target:
    """One line of targets.txt: a file, optionally some functions or a line
    range of it, the ctest tests that ought to catch bugs there (in the order
    to run them: fastest first) and how many mutants a campaign draws."""

    def __init__(self, path, fns, lines, tests, n, lineno):
        self.path, self.fns, self.lines, self.tests, self.n = path, fns, lines, tests, n
        self.lineno = lineno

    def key(self):
        return "%s %s %s" % (self.path, ",".join(self.fns), self.lines or "")


def parse_targets(path=TARGETS):
    targets = []
    with open(path) as f:
        for no, raw in enumerate(f, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            fields = line.split()
            t = Target(fields[0], [], None, [], 6, no)
            for fld in fields[1:]:
                k, _, v = fld.partition("=")
                if k == "fn":
                    t.fns = [x for x in v.split(",") if x]
                elif k == "lines":
                    a, _, b = v.partition("-")
                    t.lines = (int(a), int(b))
                elif k == "tests":
                    t.tests = [x for x in v.split(",") if x]
                elif k == "n":
                    t.n = int(v)
                else:
                    sys.exit("targets.txt:%d: unknown field %r" % (no, fld))
            if not t.tests:
                sys.exit("targets.txt:%d: no tests= for %s" % (no, t.path))
            if not os.path.isfile(os.path.join(ROOT, t.path)):
                sys.exit("targets.txt:%d: no file %s" % (no, t.path))
            targets.append(t)
    return targets


def load_keyed(path):
    """id -> rest of line, from a file of 'ID text' lines (# comments)."""
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition(" ")
            out[k] = v.strip()
    return out


# ---------------------------------------------------------------- source scanning


def code_mask(lines, asm):
    """Each line with comments and string/char literals blanked to spaces
    (same length), so operators are only ever found in code."""
    out, in_comment = [], False
    for line in lines:
        s, i, n = list(line), 0, len(line)
        while i < n:
            if in_comment:
                if line.startswith("*/", i):
                    s[i] = s[i + 1] = " "
                    i += 2
                    in_comment = False
                else:
                    s[i] = " "
                    i += 1
            elif line.startswith("/*", i):
                in_comment = True
            elif line.startswith("//", i) and not asm:
                for j in range(i, n):
                    s[j] = " "
                break
            elif line[i] in "\"'" and not asm:
                q, j = line[i], i + 1
                while j < n and line[j] != q:
                    j += 2 if line[j] == "\\" else 1
                for k in range(i + 1, min(j, n)):
                    s[k] = " "
                i = j + 1
            else:
                i += 1
        out.append("".join(s))
    return out


C_DEF = re.compile(r"^[A-Za-z_][\w \*]*?\b(\w+)\s*\([^;]*$")


def regions(lines, mask, fns, rng, asm):
    """Line indexes (0-based) inside the target's functions / range."""
    n = len(lines)
    if rng:
        return set(range(rng[0] - 1, min(rng[1], n)))
    if not fns:
        return set(range(n))
    picked = set()
    for i, m in enumerate(mask):
        if asm:
            mo = re.match(r"^([A-Za-z_]\w*):", m) or re.match(r"^\s*\.macro\s+(\w+)", m)
            if not mo or mo.group(1) not in fns:
                continue
            j = i + 1
            while j < n and not re.match(r"^([A-Za-z_]\w*:|\s*\.(macro|endm)\b)", mask[j]):
                j += 1
            picked.update(range(i, j))
        else:
            # "static inline __attribute__((always_inline)) long f(": the
            # attribute is not the function's name
            mo = C_DEF.match(re.sub(r"__attribute__\s*\(\(.*?\)\)\s*", "", m))
            if not mo or mo.group(1) not in fns:
                continue
            j = i
            while j < n and lines[j].rstrip() != "}":
                j += 1
            picked.update(range(i, j + 1))
    return picked


SKIP_C = re.compile(r"\b(assert|panic|printf|kprintf|klog|KLOG|log_\w+|static_assert|_Static_assert)\b")
DECL = re.compile(r"^\s*(static\s+|const\s+|struct\s+\w+\s*\*?\s*\w+\s*[=;\[]|"
                  r"(unsigned|signed|int|long|char|short|void|bool|size_t|u?int\d+_t|uintptr_t)\b)")
STMT_KW = re.compile(r"^\s*(return|break|continue|case|default|else|goto|if|for|while|do|switch)\b")
REL = re.compile(r"(?<![<>=!\-])(<=|>=|==|!=|<|>)(?![<>=])")
INT = re.compile(r"(?<![\w.])(0x[0-9a-fA-F]+|\d+)(?:ull|ul|u|ll|l)?(?![\w.])", re.I)
CALL2 = re.compile(r"\b(\w+)\(([^(),]+), ([^(),]+)([,)])")
FLAGOR = re.compile(r"\b([A-Z][A-Z0-9_]+)\s*\|\s*([A-Z][A-Z0-9_]+)\b")
PRIV = re.compile(r"\bPRIV_[A-Z]+\b")
JCC_FLIP = {"je": "jne", "jne": "je", "jz": "jnz", "jnz": "jz", "jb": "jae", "jae": "jb",
            "ja": "jbe", "jbe": "ja", "jc": "jnc", "jnc": "jc", "jl": "jge", "jge": "jl",
            "jg": "jle", "jle": "jg", "js": "jns", "jns": "js"}
JCC_BOUND = {"jb": "jbe", "jbe": "jb", "ja": "jae", "jae": "ja", "jl": "jle", "jle": "jl",
             "jg": "jge", "jge": "jg"}
REL_SWAP = {"<": "<=", "<=": "<", ">": ">=", ">=": ">", "==": "!=", "!=": "=="}


def droppable(m, code, prev):
    """A complete one-line statement that is not a declaration, a return or
    a jump: dropping it leaves code that still compiles."""
    if not code.endswith(";") or DECL.match(m) or STMT_KW.match(m):
        return False
    if code.count("(") != code.count(")") or code.startswith(("}", ")", "{", "&", "|", "?", ":", "(")):
        return False
    # the statement starts on this line: the previous one ended a statement,
    # opened a block, or was an if/else/for/while header
    return prev.endswith((";", "{", "}", ")", "else", ":")) or prev == ""


def c_mutants(i, line, m, prev):
    """(operator, mutated line) for one line of C; m is its code mask, prev
    the previous non-blank code line."""
    out = []
    code = m.strip()
    if not code or code.startswith("#") or SKIP_C.search(m):
        return out

    def sub(a, b, text):
        return line[:a] + text + line[b:]

    # rel: flip/shift one comparison
    for mo in REL.finditer(m):
        a, b = mo.span(1)
        if m[a] in "<>" and (m[a - 1:a] == "-" or m[b:b + 1] == ">"):
            continue
        out.append(("rel", sub(a, b, REL_SWAP[mo.group(1)])))
    # logic: && <-> ||
    for mo in re.finditer(r"&&|\|\|", m):
        a, b = mo.span()
        out.append(("logic", sub(a, b, "||" if mo.group() == "&&" else "&&")))
    # obo: a bound off by one (literal +-1, drop "+ 1" / "- 1")
    if not re.match(r"^\s*\[", m):
        for mo in INT.finditer(m):
            a, b = mo.span()
            lit = line[a:b]
            out.append(("obo", sub(a, b, "(%s + 1)" % lit)))
            if lit not in ("0", "0x0"):
                out.append(("obo", sub(a, b, "(%s - 1)" % lit)))
        for mo in re.finditer(r"\s[+-] 1\b", m):
            a, b = mo.span()
            out.append(("obo", sub(a, b, "")))
    # cond: drop a check (if (c) -> if (0)) or invert it
    mo = re.match(r"^(\s*(?:\} else )?if )\((.*)\)(\s*(?:\{|[^;]*;)?)\s*$", m)
    if mo and m.count("(") == m.count(")"):
        start, end = line.index("(", len(mo.group(1)) - 1), len(mo.group(1)) + len(mo.group(2)) + 2
        out.append(("cond", line[:start] + "(0)" + line[end:]))
        out.append(("negate", line[:start] + "(!(" + line[start + 1:end - 1] + "))" + line[end:]))
    # swap: two arguments of a call
    for mo in CALL2.finditer(m if not re.match(r"^[A-Za-z_]", m) else ""):
        x, y = mo.group(2).strip(), mo.group(3).strip()
        if x == y or mo.group(1) in ("if", "while", "for", "switch", "sizeof", "return"):
            continue
        a, b = mo.start(2), mo.end(3)
        out.append(("swap", sub(a, b, "%s, %s" % (line[mo.start(3):mo.end(3)].strip(),
                                                  line[mo.start(2):mo.end(2)].strip()))))
    # flag: drop one flag of an OR of constants (a zeroing, a right, ...)
    for mo in FLAGOR.finditer(m):
        out.append(("flag", sub(mo.start(), mo.end(), mo.group(1))))
        out.append(("flag", sub(mo.start(), mo.end(), mo.group(2))))
    # priv: a privilege-table entry that asks for nothing
    if re.match(r"^\s*\[\w+\]\s*=\s*\{", m):
        for mo in PRIV.finditer(m):
            out.append(("priv", sub(mo.start(), mo.end(), "0")))
    # stmt: drop a whole one-line statement (calls, assignments, ++/--)
    if droppable(m, code, prev):
        indent = line[:len(line) - len(line.lstrip())]
        out.append(("stmt", indent + ";"))
    return out


def asm_mutants(i, lines, mask):
    line, m = lines[i], mask[i]
    out = []
    code = m.strip()
    if not code or code.startswith(("#", ".", "/*")) or re.match(r"^\w+:\s*$", code):
        return out
    body = re.sub(r"^\w+:\s*", "", code)  # "1:  movzbl ..." -> instruction
    ins = body.split()[0] if body else ""
    pre = line[:line.index(ins)] if ins else ""
    rest = line[len(pre) + len(ins):]
    if ins in JCC_FLIP:
        out.append(("jcc", pre + JCC_FLIP[ins] + rest))
        if ins in JCC_BOUND:
            out.append(("jcc-bound", pre + JCC_BOUND[ins] + rest))
    if ins in ("cmp", "cmpb", "cmpl", "cmpq", "test", "testb", "bt") and i + 1 < len(lines):
        nxt = mask[i + 1].split()
        if nxt and nxt[0] in JCC_FLIP:
            out.append(("drop-check", (None, i + 1)))  # the pair goes
        imm = re.search(r"\$([A-Za-z_]\w*|\d+)", rest)
        if imm:
            a = len(pre) + len(ins) + imm.start()
            b = len(pre) + len(ins) + imm.end()
            out.append(("const", line[:a] + "$(%s+1)" % imm.group(1) + line[b:]))
    if ins.startswith(("mov", "xor", "inc", "and", "shl", "shr", "lea")) and not ins.startswith("movabs"):
        out.append(("stmt", pre + "/* dropped */"))
    return out


class Mutant:
    def __init__(self, path, lineno, op, orig, mut, extra_line=None):
        self.path, self.lineno, self.op, self.orig, self.mut = path, lineno, op, orig, mut
        self.extra = extra_line  # (lineno, text) of a second line that is dropped too
        self.id = None
        self.tests = []

    def diff(self):
        d = ["--- a/%s" % self.path, "+++ b/%s" % self.path, "@@ line %d @@" % self.lineno,
             "-" + self.orig]
        if self.extra:
            d.append("-" + self.extra[1])
        if self.mut is not None:
            d.append("+" + self.mut)
        return "\n".join(d)

    def apply(self, text_lines):
        out = list(text_lines)
        if self.extra:
            out[self.extra[0] - 1] = ""
        out[self.lineno - 1] = self.mut if self.mut is not None else ""
        return out


def file_mutants(path, cache={}):
    """Every mutant of a whole file (line -> list), with stable ids."""
    if path in cache:
        return cache[path]
    with open(os.path.join(ROOT, path)) as f:
        lines = f.read().split("\n")
    asm = path.endswith(".S")
    mask = code_mask(lines, asm)
    per_line, seen = {}, {}
    # Code only the benchmark kernel builds is not what users run.
    bench, depth = set(), 0
    for i, l in enumerate(lines):
        if re.match(r"^\s*#\s*if(def)?\b.*GRANITE_BENCH", l) and not depth:
            depth = 1
        elif depth and re.match(r"^\s*#\s*if", l):
            depth += 1
        elif depth and re.match(r"^\s*#\s*endif", l):
            depth -= 1
        if depth:
            bench.add(i)
    for i in range(len(lines)):
        if i in bench:
            continue
        if asm:
            found = asm_mutants(i, lines, mask)
        else:
            prev = next((mask[j].strip() for j in range(i - 1, -1, -1) if mask[j].strip()), "")
            found = c_mutants(i, lines[i], mask[i], prev)
        for op, mut in found:
            if isinstance(mut, tuple):  # asm drop-check: this line and the jump go
                mu = Mutant(path, i + 1, op, lines[i], None, (mut[1] + 1, lines[mut[1]]))
                key = "%s\0%s\0%s\0-" % (path, lines[i].strip(), lines[mut[1]].strip())
            else:
                if mut == lines[i]:
                    continue
                mu = Mutant(path, i + 1, op, lines[i], mut)
                key = "%s\0%s\0%s" % (path, lines[i].strip(), mut.strip())
            k = seen.get(key, 0)
            seen[key] = k + 1
            mu.id = hashlib.sha1((key + ("\0%d" % k if k else "")).encode()).hexdigest()[:10]
            per_line.setdefault(i, []).append(mu)
    cache[path] = (lines, mask, per_line)
    return cache[path]


def target_mutants(t):
    lines, mask, per_line = file_mutants(t.path)
    idx = regions(lines, mask, t.fns, t.lines, t.path.endswith(".S"))
    out = []
    for i in sorted(idx):
        for mu in per_line.get(i, []):
            c = copy.copy(mu)  # one file can be several targets, with other tests
            c.tests = t.tests
            out.append(c)
    return out


def select(targets, seed, only=None):
    """A campaign: n mutants per target, drawn with a seeded RNG, operators
    taken round-robin so each file sees every kind that applies."""
    chosen, ids = [], set()
    for t in targets:
        if only and t.path != only:
            continue
        cands = [m for m in target_mutants(t) if m.id not in ids]
        rng = random.Random("%s:%s" % (seed, t.key()))
        by_op = {}
        for m in cands:
            by_op.setdefault(m.op, []).append(m)
        ops = sorted(by_op)
        rng.shuffle(ops)
        for op in ops:
            rng.shuffle(by_op[op])
        picked = []
        while len(picked) < t.n and any(by_op.values()):
            for op in ops:
                if by_op[op] and len(picked) < t.n:
                    picked.append(by_op[op].pop())
        for m in picked:
            ids.add(m.id)
        chosen.extend(picked)
    return chosen


def find_by_id(targets, wanted):
    found = {}
    for t in targets:
        for m in target_mutants(t):
            if m.id in wanted and m.id not in found:
                found[m.id] = m
    return found


# ---------------------------------------------------------------- building and testing


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard", "-z"],
                             check=True, capture_output=True).stdout.decode()
        return [f for f in out.split("\0") if f and os.path.isfile(os.path.join(ROOT, f))]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs if not x.startswith((".git", "build"))]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files


def sync_tree(dst):
    """Make dst a copy of the source tree, rewriting only files that differ
    (make then rebuilds just those)."""
    for rel in tracked_files():
        s, d = os.path.join(ROOT, rel), os.path.join(dst, rel)
        with open(s, "rb") as f:
            data = f.read()
        try:
            with open(d, "rb") as f:
                if f.read() == data:
                    continue
        except OSError:
            os.makedirs(os.path.dirname(d), exist_ok=True)
        with open(d, "wb") as f:
            f.write(data)
        shutil.copymode(s, d)


def jobs_for_make():
    return os.environ.get("GRANITE_JOBS") or str(os.cpu_count() or 2)


class Worker:
    def __init__(self, base, n, log):
        self.dir = os.path.join(base, "work%d" % n)
        self.src = os.path.join(self.dir, "src")
        self.build = os.path.join(self.dir, "build")
        self.log = log
        self.test_targets = None

    def setup(self):
        os.makedirs(self.src, exist_ok=True)
        sync_tree(self.src)
        if not os.path.exists(os.path.join(self.build, "CMakeCache.txt")):
            self.log("configuring %s" % self.build)
            # Mutants are judged by tests, not by warnings: a swapped "&&"
            # that wants parentheses, or a value a dropped statement no longer
            # uses, must still build (-W flags beat -Wall wherever they stand).
            quiet = ("-Wno-parentheses -Wno-unused-variable -Wno-unused-but-set-variable "
                     "-Wno-unused-parameter -Wno-unused-function -Wno-unused-value -Wno-empty-body "
                     "-Wno-sign-compare -Wno-type-limits -Wno-tautological-compare -Wno-logical-op "
                     "-Wno-array-bounds -Wno-stringop-overflow -Wno-uninitialized "
                     "-Wno-maybe-uninitialized -Wno-return-type")
            r = subprocess.run(["cmake", "-S", self.src, "-B", self.build, "-G", "Unix Makefiles",
                                "-DCMAKE_C_FLAGS=" + quiet], capture_output=True, text=True)
            if r.returncode:
                sys.exit("mutate: cmake configure failed:\n" + r.stdout + r.stderr)
        self.test_targets = self.discover()

    def discover(self):
        """ctest test name -> build targets it needs (its ISO or executable)."""
        r = subprocess.run(["ctest", "--show-only=json-v1"], cwd=self.build, capture_output=True,
                           text=True, check=True)
        out = {}
        for t in json.loads(r.stdout).get("tests", []):
            cmd, need = t.get("command", []), []
            for k, a in enumerate(cmd):
                if a == "--iso" and k + 1 < len(cmd):
                    need.append("iso-" + os.path.basename(cmd[k + 1])[:-4])
                elif a.startswith("-DFUZZER="):
                    need.append("fuzzers")
            if cmd and cmd[0].startswith(self.build) and os.path.basename(cmd[0]).startswith("test-"):
                need.append(os.path.basename(cmd[0]))
            elif not cmd and t["name"].startswith("host."):  # not built yet: ctest cannot say
                need.append("test-" + t["name"][5:])
            out[t["name"]] = need
        return out

    def make(self, tests):
        need = sorted({x for t in tests for x in self.test_targets.get(t, [])})
        for t in tests:
            if t not in self.test_targets:
                sys.exit("mutate: targets.txt names test %r, which ctest does not know" % t)
        if not need:
            return True, ""
        r = subprocess.run(["cmake", "--build", self.build, "-j", jobs_for_make(), "--target"] + need
                           + ["--", "--no-print-directory"], capture_output=True, text=True)
        return r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]

    def run_test(self, name, cap):
        env = dict(os.environ)
        if cap:
            env["GRANITE_QEMU_TIMEOUT"] = str(cap)
        t0 = time.time()
        r = subprocess.run(["ctest", "-R", "^%s$" % re.escape(name), "--output-on-failure",
                            "--timeout", str(cap or 600)], cwd=self.build, env=env,
                           capture_output=True, text=True)
        return r.returncode == 0, r.stdout + r.stderr, time.time() - t0


FAIL_LINE = re.compile(r"(CHECK \S+ FAIL.*|TEST \S+ FAIL.*|PANIC.*|kernel EXCEPTION.*|DEADLOCK.*|"
                       r"assertion .*failed.*|\[  FAILED  \] \S+|\[  ERROR   \] .*|"
                       r"ERROR: AddressSanitizer.*|runtime error:.*|.*: [1-9][0-9]* checks failed.*)")


def classify(out):
    """(kind, detail) of a failed ctest run: 'assert' with the assertion that
    failed, or 'timeout' when only a time limit ended it."""
    fails = [m.group(1).strip() for m in FAIL_LINE.finditer(out)]
    verdict = re.search(r"^FAIL: (.*)$", out, re.M)
    timed_out = "***Timeout" in out or (verdict and "did not finish within" in verdict.group(1))
    if timed_out:
        if fails:
            return "assert", "%s (then a hang)" % fails[0]
        return "timeout", verdict.group(1) if verdict else "ctest time limit"
    if verdict:
        v = verdict.group(1)
        v = re.sub(r" \(33 = guest success.*\)$", "", v)
        if not fails:  # the serial log's last line says where it stopped
            m = re.search(r"\n([^\n]*\S[^\n]*)\n----- end of log", out)
            fails = ["last line: " + m.group(1).strip()] if m else []
        return "assert", v + (": " + fails[0] if fails else "")
    if fails:
        failed = re.search(r"\[  FAILED  \] (\S+)", out)  # cmocka: name the test too
        return "assert", ("%s: " % failed.group(1) if failed else "") + fails[0]
    last = [l for l in out.splitlines() if l.strip()]
    return "assert", "test failed: " + (last[-1][:200] if last else "?")


# ---------------------------------------------------------------- the campaign


class State:
    def __init__(self, path):
        self.path, self.results, self.baseline = path, {}, {}
        self.lock = threading.Lock()
        if os.path.exists(path):
            with open(path) as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue  # a line cut short by a kill
                    if "baseline" in r:
                        self.baseline.update(r["baseline"])
                    elif "id" in r:
                        self.results[r["id"]] = r

    def add(self, rec):
        with self.lock:
            if "id" in rec:
                self.results[rec["id"]] = rec
            else:
                self.baseline.update(rec["baseline"])
            with open(self.path, "a") as f:
                f.write(json.dumps(rec) + "\n")


def run_mutant(w, mu, state, log, sample):
    full = os.path.join(w.src, mu.path)
    with open(full) as f:
        orig_text = f.read()
    lines = orig_text.split("\n")
    if lines[mu.lineno - 1] != mu.orig:
        sys.exit("mutate: %s changed while running (line %d)" % (mu.path, mu.lineno))
    t0 = time.time()
    rec = {"id": mu.id, "file": mu.path, "line": mu.lineno, "op": mu.op, "diff": mu.diff()}
    try:
        with open(full, "w") as f:
            f.write("\n".join(mu.apply(lines)))
        tb = time.time()
        ok, out = w.make(mu.tests)
        rec["build_secs"] = round(time.time() - tb, 1)
        if not ok:
            rec.update(status="nobuild", detail=out.strip().splitlines()[-1][:200] if out.strip() else "")
        else:
            rec["status"] = "survived"
            for name in mu.tests:
                cap = None
                if not sample and name in state.baseline:
                    cap = int(4 * state.baseline[name] + 90)  # room for a busy machine
                passed, out, secs = w.run_test(name, cap)
                if passed:
                    continue
                kind, detail = classify(out)
                logf = os.path.join(os.path.dirname(state.path), "logs", mu.id + ".log")
                os.makedirs(os.path.dirname(logf), exist_ok=True)
                with open(logf, "w") as f:
                    f.write(mu.diff() + "\n\n" + out)
                rec.update(status="killed" if kind == "assert" else "timeout", test=name,
                           detail=detail)
                if kind == "assert":
                    break
    finally:
        with open(full, "w") as f:
            f.write(orig_text)
    rec["secs"] = round(time.time() - t0, 1)
    state.add(rec)
    log("%-9s %s %s:%d %s%s" % (rec["status"], mu.id, mu.path, mu.lineno, mu.op,
                                 "  [%s: %s]" % (rec.get("test"), rec.get("detail")) if rec.get("test") else ""))
    return rec


def baseline(w, tests, state, log):
    """Every test the campaign uses must pass on the unmutated tree; their
    times set each test's time limit under mutation."""
    todo = [t for t in tests if t not in state.baseline]
    if not todo:
        return
    ok, out = w.make(todo)
    if not ok:
        sys.exit("mutate: the unmutated tree does not build:\n" + out)
    for name in todo:
        passed, out, secs = w.run_test(name, None)
        if not passed:
            sys.exit("mutate: test %s fails on the unmutated tree; fix that first:\n%s" % (name, out[-4000:]))
        log("baseline  %s passed in %.1fs" % (name, secs))
        state.add({"baseline": {name: round(secs, 1)}})


def report(path, mutants, state, equivalent, seed, title):
    rows, files = [], {}
    for mu in mutants:
        r = state.results.get(mu.id)
        if not r:
            continue
        st = r["status"]
        if st == "survived" and mu.id in equivalent:
            st = "equivalent"
        f = files.setdefault(mu.path, {"killed": 0, "timeout": 0, "survived": 0, "equivalent": 0,
                                       "nobuild": 0})
        f[st] += 1
        rows.append((mu, r, st))
    tot = {k: sum(f[k] for f in files.values()) for k in ("killed", "timeout", "survived",
                                                            "equivalent", "nobuild")}

    def score(f):
        counted = f["killed"] + f["timeout"] + f["survived"] + f["equivalent"]
        return (100.0 * f["killed"] / counted) if counted else 0.0, counted

    def score_eq(f):
        counted = f["killed"] + f["timeout"] + f["survived"]
        return (100.0 * f["killed"] / counted) if counted else 100.0

    s, counted = score(tot)
    out = ["# %s" % title, "",
           "Seed %s; %d mutants run of %d drawn (%d did not build and are not counted)." % (
               seed, len(rows), len(mutants), tot["nobuild"]), "",
           "**Score: %d of %d killed by an assertion (%.1f%%); %d killed only by a time-out; "
           "%d survivors, of which %d are shown equivalent (score without them: %.1f%%); "
           "%d survivors unexplained.**" % (tot["killed"], counted, s, tot["timeout"],
                                            tot["survived"] + tot["equivalent"], tot["equivalent"],
                                            score_eq(tot), tot["survived"]), "",
           "| file | mutants | killed | time-out only | equivalent | survived | did not build | score | without equivalents |",
           "|---|---|---|---|---|---|---|---|---|"]
    for p in sorted(files):
        f = files[p]
        sc, c = score(f)
        out.append("| %s | %d | %d | %d | %d | %d | %d | %.0f%% | %.0f%% |" % (
            p, c, f["killed"], f["timeout"], f["equivalent"], f["survived"], f["nobuild"], sc,
            score_eq(f)))
    for head, want in (("Survivors (no test can tell them from the original yet)", ("survived",)),
                       ("Equivalent survivors (why no test can tell them apart)", ("equivalent",)),
                       ("Killed only by a time-out", ("timeout",))):
        sel = [x for x in rows if x[2] in want]
        out += ["", "## %s: %d" % (head, len(sel)), ""]
        for mu, r, st in sel:
            out.append("### %s  %s:%d (%s)" % (mu.id, mu.path, mu.lineno, mu.op))
            if st == "equivalent":
                out.append("Equivalent: " + equivalent[mu.id])
            elif st == "timeout":
                out.append("%s: %s" % (r.get("test"), r.get("detail")))
            else:
                out.append("Justification: none yet (add `%s <reason>` to test/mutate/equivalent.txt "
                           "or a test that kills it). Tests run: %s" % (mu.id, ", ".join(mu.tests)))
            out += ["```diff", mu.diff(), "```", ""]
    out += ["", "## Killed: %d" % tot["killed"], "", "| id | where | operator | test | assertion |",
            "|---|---|---|---|---|"]
    for mu, r, st in rows:
        if st == "killed":
            out.append("| %s | %s:%d | %s | %s | %s |" % (mu.id, mu.path, mu.lineno, mu.op, r.get("test"),
                                                         (r.get("detail") or "").replace("|", "\\|")[:160]))
    out += ["", "## Did not build: %d" % tot["nobuild"], ""]
    for mu, r, st in rows:
        if st == "nobuild":
            out.append("- %s %s:%d (%s)" % (mu.id, mu.path, mu.lineno, mu.op))
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return tot


def main():
    ap = argparse.ArgumentParser(prog="./granite mutate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sample", action="store_true",
                    help="run only the fixed mutants of test/mutate/sample.txt; all must be killed "
                         "by an assertion (what the ctest test mutate.sample does)")
    ap.add_argument("--seed", type=int, default=1, help="which mutants are drawn (default 1)")
    ap.add_argument("--only", help="only the targets of this file (path relative to the repo)")
    ap.add_argument("--jobs", type=int, default=1, help="mutants built and tested at once (default 1; "
                    "each worker has its own scratch tree and build)")
    ap.add_argument("--max", type=int, help="stop after running this many mutants")
    ap.add_argument("--retry-survivors", action="store_true",
                    help="run survivors (but those shown equivalent) and time-out kills again, "
                         "after tests were added")
    ap.add_argument("--fresh", action="store_true", help="forget earlier results")
    ap.add_argument("--list", action="store_true", help="print the drawn mutants and stop")
    ap.add_argument("--ids", help="with --sample: these mutant ids (comma-separated) instead of "
                    "test/mutate/sample.txt")
    ap.add_argument("--build-dir", help="where the scratch trees, state and report go (default "
                    "build/mutate, or build/mutate-sample with --sample)")
    a = ap.parse_args()
    if not a.build_dir:
        a.build_dir = os.path.join(os.environ.get("GRANITE_BUILD_DIR") or os.path.join(ROOT, "build"),
                                   "mutate-sample" if a.sample else "mutate")

    targets = parse_targets()
    if a.sample:
        # sample.txt: "ID TEST # what": the test that kills the mutant, the
        # only one built and run for it, so the sample stays quick.
        sample = {i: "" for i in a.ids.split(",")} if a.ids else load_keyed(SAMPLE)
        wanted = list(sample)
        found = find_by_id(targets, set(wanted))
        missing = [i for i in wanted if i not in found]
        if missing:
            sys.exit("mutate: sample ids no longer match any mutant (the code changed: pick new ones "
                     "with ./granite mutate --list): %s" % " ".join(missing))
        mutants = [found[i] for i in wanted]
        for mu in mutants:
            test = sample[mu.id].split("#")[0].strip()
            if test:
                mu.tests = [test]
    else:
        mutants = select(targets, a.seed, a.only)
    if a.list:
        for mu in mutants:
            print("%s %s:%d %-10s tests=%s\n    - %s\n    + %s" % (
                mu.id, mu.path, mu.lineno, mu.op, ",".join(mu.tests), mu.orig.strip(),
                (mu.mut or "").strip() if not mu.extra else "(with the next line: %s)" % mu.extra[1].strip()))
        print("%d mutants" % len(mutants))
        return 0

    base = os.path.abspath(a.build_dir)
    if a.fresh or a.sample:
        shutil.rmtree(os.path.join(base, "state.jsonl"), ignore_errors=True)
        if os.path.exists(os.path.join(base, "state.jsonl")):
            os.remove(os.path.join(base, "state.jsonl"))
    os.makedirs(base, exist_ok=True)
    state = State(os.path.join(base, "state.jsonl"))
    lock = threading.Lock()
    t_start = time.time()

    def log(msg):
        with lock:
            print("[%5.0fs] %s" % (time.time() - t_start, msg), flush=True)

    equivalent = load_keyed(EQUIVALENT)
    todo = [m for m in mutants if m.id not in state.results or
            (a.retry_survivors and state.results[m.id]["status"] in ("survived", "timeout") and
             m.id not in equivalent)]
    if a.max is not None:
        todo = todo[:a.max]
    log("%d mutants drawn, %d to run, %d worker(s), state %s" % (len(mutants), len(todo), a.jobs,
                                                                  state.path))
    # Group by file: consecutive mutants of one file rebuild only that file.
    groups = {}
    for m in todo:
        groups.setdefault(m.path, []).append(m)
    queues = [[] for _ in range(max(1, a.jobs))]
    for k, p in enumerate(sorted(groups, key=lambda p: -len(groups[p]))):
        min(queues, key=len).extend(groups[p])
    workers = [Worker(base, n, log) for n in range(len(queues))]
    errors = []

    def work(w, q):
        try:
            w.setup()
            if not a.sample:
                baseline(w, sorted({t for m in mutants for t in m.tests}), state, log)
            for mu in q:
                run_mutant(w, mu, state, log, a.sample)
        except SystemExit as e:
            errors.append(str(e))
        except Exception:  # report, let the others finish
            errors.append("%s: %s" % (w.dir, traceback.format_exc()))
            log("worker %s stopped:\n%s" % (w.dir, traceback.format_exc()))

    if todo:
        if not a.sample:
            # One baseline, before workers start mutating.
            workers[0].setup()
            baseline(workers[0], sorted({t for m in mutants for t in m.tests}), state, log)
        threads = [threading.Thread(target=work, args=(w, q)) for w, q in zip(workers, queues) if q]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        return 2

    rpath = os.path.join(base, "report.md")
    tot = report(rpath, mutants, state, equivalent, a.seed,
                 "Mutation sample" if a.sample else "Mutation campaign")
    log("report: %s" % rpath)
    log("killed %d, time-out only %d, survived %d (%d shown equivalent), did not build %d, "
        "not run yet %d" % (tot["killed"], tot["timeout"], tot["survived"] + tot["equivalent"],
                            tot["equivalent"], tot["nobuild"],
                            len([m for m in mutants if m.id not in state.results])))
    if a.sample:
        bad = [m.id for m in mutants if state.results.get(m.id, {}).get("status") != "killed"]
        if bad:
            print("mutate: sample mutants not killed by an assertion: %s" % " ".join(bad))
            return 1
        print("mutate: sample: all %d mutants killed by an assertion" % len(mutants))
    return 0


if __name__ == "__main__":
    sys.exit(main())
