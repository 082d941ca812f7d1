#!/usr/bin/env python3
"""Compare two TAP streams case by case: the real kernel vs the emulated host.

    tap-compare.py KERNEL.tap EMULATED.tap [--title NAME] [--known FILE]

Prints one row per test case (kernel result, emulated result, agreement)
and a closing line "N of M cases agree". Cases that ran on only one side
count as disagreeing. --known names a file of "case-name: reason" lines:
known differences, printed with their reason (they still count as not
agreeing). Exit status: 0 if every case agrees or is a known difference.
"""
import argparse
import re
import sys

RESULT = re.compile(r'^(not ok|ok)\s+\d+\s+(?:-\s+)?([^#]*?)\s*(#\s*(\S+).*)?$')


def parse(path):
    cases = {}
    with open(path, errors='replace') as f:
        for line in f:
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
            cases[name.strip()] = result
    return cases


def load_known(path):
    known = {}
    if not path:
        return known
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith('#') and ':' in line:
                name, reason = line.split(':', 1)
                known[name.strip()] = reason.strip()
    return known


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('kernel')
    ap.add_argument('emulated')
    ap.add_argument('--title')
    ap.add_argument('--known')
    args = ap.parse_args(argv[1:])
    title = args.title or args.kernel
    known = load_known(args.known)
    kernel, emulated = parse(args.kernel), parse(args.emulated)
    names = sorted(set(kernel) | set(emulated))
    agree = unexplained = 0
    print('== %s: kernel vs emulated host' % title)
    for name in names:
        k, e = kernel.get(name, '-'), emulated.get(name, '-')
        if k == e:
            agree += 1
            mark = 'agree'
        elif name in known:
            mark = 'known: ' + known[name]
        else:
            unexplained += 1
            mark = 'DIFFER'
        print('  %-72s %-5s %-5s %s' % (name[:72], k, e, mark))
    for name in sorted(known):
        if name in names and kernel.get(name) == emulated.get(name):
            print('  stale entry in the known differences, now agrees: %s'
                  % name)
    print('%s: %d of %d cases agree (%d known differences, %d unexplained)'
          % (title, agree, len(names), len(names) - agree - unexplained,
             unexplained))
    return 0 if unexplained == 0 else 1


if __name__ == '__main__':
    sys.exit(main(sys.argv))
