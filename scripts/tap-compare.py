#!/usr/bin/env python3
"""Compare two test outputs case by case: the real kernel vs the emulated host.

    tap-compare.py KERNEL.tap EMULATED.tap [--title NAME] [--known FILE]
    tap-compare.py --steps KERNEL.out EMULATED.out [--title NAME] [--known FILE]

TAP mode (the kernel's kselftest harness): one row per test case with the
kernel's result, the emulated host's result and the verdict. Two sides agree
on a case when the results are the same and, if it failed, the failing
assertion lines the harness printed before "not ok" ("# file:line:test:...")
are the same too (the file named by its base name only), so two failures
for different reasons do not agree.

Steps mode (uapi-check): every line is a step, "name: result" (an "info:"
line is a step of its own, "info.name"); a step agrees when its
whole line is the same on both sides. A step or case present on one side
only is a difference.

--known names the known-differences file, in sections named like --title:

    [iommufd]
    case-name: reason
        kernel: file:line:test:Expected ...
        emulated: file:line:test:Expected ...

The indented lines (optional) are the failing assertion lines each side is
known to print for that case, in order; a side with none listed must print
none. For steps, "kernel:" and "emulated:" hold each side's whole result
(the text after "name:"); an "info:" line is the step "info.NAME". A listed case whose outputs are not exactly the
recorded ones is a new divergence; a listed case that now agrees, or that
no longer exists, is a stale entry.

Exit status 0 only if every difference is listed and matches its entry and
no entry is stale.
"""
import argparse
import os
import re
import sys

RESULT = re.compile(r'^(not ok|ok)\s+\d+\s+(?:-\s+)?([^#]*?)\s*(#\s*(\S+).*)?$')
RUN = re.compile(r'^#\s+RUN\s+(\S+)')
# kselftest_harness.h: "# %s:%d:%s:Expected ..." and TH_LOG() lines
ASSERTION = re.compile(r'^#\s+(\S+\.[ch]:\d+:\S+?:.*)$')


class Case:
    def __init__(self, result, lines):
        self.result = result
        self.lines = lines


def parse_tap(path):
    cases = {}
    lines = []
    with open(path, errors='replace') as f:
        for raw in f:
            line = raw.rstrip('\n')
            if RUN.match(line):
                lines = []
                continue
            m = ASSERTION.match(line)
            if m:
                # __FILE__ is the path the binary was built from: keep
                # only its base name (the guest's copy is built elsewhere)
                where, rest = m.group(1).strip().split(':', 1)
                lines.append(os.path.basename(where) + ':' + rest)
                continue
            m = RESULT.match(line.strip())
            if not m:
                continue
            status, name, _, directive = m.groups()
            if directive and directive.upper().startswith('SKIP'):
                result = 'skip'
            elif directive and directive.upper().startswith('XFAIL'):
                result = 'xfail'
            else:
                result = 'pass' if status == 'ok' else 'fail'
            cases[name.strip()] = Case(result, lines if result == 'fail'
                                       else [])
            lines = []
    return cases


STEP = re.compile(r'^(info:\s*)?([^:\s]+):?\s*(.*)$')


def parse_steps(path):
    """uapi-check lines: "name: result", "info: name[:] text", "done"."""
    steps = {}
    with open(path, errors='replace') as f:
        for raw in f:
            line = raw.strip()
            if not line:
                continue
            info, key, text = STEP.match(line).groups()
            key = ('info.' if info else '') + key
            name, n = key, 2
            while name in steps:
                name = '%s#%d' % (key, n)
                n += 1
            steps[name] = Case(text, [])
    return steps


class Known:
    def __init__(self, reason):
        self.reason = reason
        self.kernel = []
        self.emulated = []


def load_known(path, section):
    known = {}
    if not path:
        return known
    entry = None
    current = None
    with open(path) as f:
        for n, raw in enumerate(f, 1):
            if not raw.strip() or raw.lstrip().startswith('#'):
                continue
            if raw.startswith('['):
                current = raw.strip().strip('[]')
                entry = None
                continue
            if raw[0].isspace():
                side, _, text = raw.strip().partition(':')
                if side not in ('kernel', 'emulated') or \
                        (entry is None and current == section):
                    sys.exit('%s:%d: an assertion line must follow a case '
                             'and start with "kernel:" or "emulated:"'
                             % (path, n))
                if entry is not None:
                    getattr(entry, side).append(text.strip())
                continue
            if ':' not in raw or current is None:
                sys.exit('%s:%d: expected "case: reason" in a [section]'
                         % (path, n))
            name, reason = raw.split(':', 1)
            entry = Known(reason.strip()) if current == section else None
            if entry:
                known[name.strip()] = entry
    return known


def recorded(steps, case):
    """What an entry records for one side of a case."""
    if case is None:
        return []
    return [case.result] if steps else case.lines


def show(case):
    return case.result if case else '-'


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('kernel')
    ap.add_argument('emulated')
    ap.add_argument('--title')
    ap.add_argument('--known')
    ap.add_argument('--steps', action='store_true',
                    help='line-by-line steps (uapi-check), not TAP')
    args = ap.parse_args(argv[1:])
    title = args.title or args.kernel
    known = load_known(args.known, title)
    if args.steps:
        kernel, emulated = parse_steps(args.kernel), parse_steps(args.emulated)
        names = list(kernel) + [s for s in emulated if s not in kernel]
    else:
        kernel, emulated = parse_tap(args.kernel), parse_tap(args.emulated)
        names = sorted(set(kernel) | set(emulated))
    agree = {}
    n_known = 0
    unexplained = []
    stale = []
    print('== %s: kernel vs emulated host' % title)
    for name in names:
        k, e = kernel.get(name), emulated.get(name)
        same = (k is not None and e is not None and k.result == e.result and
                k.lines == e.lines)
        entry = known.get(name)
        if same:
            key = 'same' if args.steps else '%s/%s' % (k.result, e.result)
            agree[key] = agree.get(key, 0) + 1
            mark = 'agree'
            if entry:
                stale.append(name)
                mark = 'agree, STALE known difference'
        elif entry and recorded(args.steps, k) == entry.kernel and \
                recorded(args.steps, e) == entry.emulated:
            n_known += 1
            mark = 'known: ' + entry.reason
        else:
            unexplained.append(name)
            mark = 'DIFFER'
            if entry:
                mark += ' (listed, but not as recorded)'
        if args.steps:
            print('  %-28s %s' % (name[:28], mark))
            if not same:
                print('      kernel:   %s' % (k.result if k else '-'))
                print('      emulated: %s' % (e.result if e else '-'))
        else:
            print('  %-72s %-5s %-5s %s' % (name[:72], show(k), show(e), mark))
        if not same and not args.steps and (mark.startswith('DIFFER') or
                                            k and e and k.result == e.result):
            for side, case in (('kernel', k), ('emulated', e)):
                for line in case.lines if case else []:
                    print('      %s: %s' % (side, line))
    for name in sorted(known):
        if name not in kernel and name not in emulated:
            stale.append(name)
            print('  STALE known difference, no such case: %s' % name)
    total = len(names)
    n_agree = sum(agree.values())
    kinds = ', '.join('%d %s' % (v, k) for k, v in sorted(agree.items()))
    print('%s: %d of %d %s agree (%s); %d known differences, '
          '%d unexplained, %d stale entries'
          % (title, n_agree, total, 'steps' if args.steps else 'cases',
             kinds or 'none', n_known, len(unexplained), len(stale)))
    return 0 if not unexplained and not stale else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
