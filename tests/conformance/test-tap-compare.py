#!/usr/bin/env python3
"""Tests of scripts/tap-compare.py, the strict conformance comparison.

    python3 tests/conformance/test-tap-compare.py

Each test writes a kernel and an emulated output and a known-differences
file, runs the comparison and checks its verdict (exit status and table).
"""
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
COMPARE = os.path.join(ROOT, 'scripts', 'tap-compare.py')

LINE_A = 'iommufd.c:10:basic:Expected 0 (0) == f() (-1)'
LINE_B = 'iommufd.c:12:basic:Expected 0 (0) == g() (-1)'


def tap(*cases):
    """TAP as the kselftest harness prints it: (name, result, lines)."""
    out = ['TAP version 13', '1..%d' % len(cases)]
    for i, (name, result, lines) in enumerate(cases, 1):
        out.append('#  RUN           %s ...' % name)
        out.extend('# ' + line for line in lines)
        if result == 'pass':
            out.append('ok %d %s' % (i, name))
        elif result == 'skip':
            out.append('ok %d %s # SKIP no reason' % (i, name))
        else:
            out.append('# basic: Test failed')
            out.append('not ok %d %s' % (i, name))
    return '\n'.join(out) + '\n'


class TapCompare(unittest.TestCase):
    def run_compare(self, kernel, emulated, known='', steps=False,
                    title='iommufd'):
        with tempfile.TemporaryDirectory() as d:
            paths = []
            for name, text in (('k', kernel), ('e', emulated),
                               ('known', known)):
                path = os.path.join(d, name)
                with open(path, 'w') as f:
                    f.write(text)
                paths.append(path)
            cmd = [sys.executable, COMPARE, paths[0], paths[1], '--title',
                   title, '--known', paths[2]]
            if steps:
                cmd.append('--steps')
            r = subprocess.run(cmd, stdout=subprocess.PIPE,
                               universal_newlines=True)
            return r.returncode, r.stdout

    def test_agreements_by_kind(self):
        t = tap(('a.b.c', 'pass', []), ('a.b.d', 'skip', []),
                ('a.b.e', 'fail', [LINE_A]))
        rc, out = self.run_compare(t, t)
        self.assertEqual(rc, 0)
        self.assertIn('3 of 3 cases agree (1 fail/fail, 1 pass/pass, '
                      '1 skip/skip)', out)

    def test_fail_for_another_reason_differs(self):
        rc, out = self.run_compare(tap(('a.b.e', 'fail', [LINE_A])),
                                   tap(('a.b.e', 'fail', [LINE_B])))
        self.assertEqual(rc, 1)
        self.assertIn('DIFFER', out)
        self.assertIn('emulated: ' + LINE_B, out)

    def test_source_path_is_not_compared(self):
        rc, out = self.run_compare(tap(('a.b.e', 'fail', ['/src/tools/' +
                                                          LINE_A])),
                                   tap(('a.b.e', 'fail', [LINE_A])))
        self.assertEqual(rc, 0)

    def test_known_difference_must_match_its_lines(self):
        k = tap(('a.b.c', 'pass', []))
        known = ('[iommufd]\na.b.c: a verified cause\n'
                 '    emulated: %s\n' % LINE_A)
        rc, out = self.run_compare(k, tap(('a.b.c', 'fail', [LINE_A])),
                                   known)
        self.assertEqual(rc, 0)
        self.assertIn('known: a verified cause', out)
        # a new divergence inside the listed case
        rc, out = self.run_compare(k, tap(('a.b.c', 'fail', [LINE_B])),
                                   known)
        self.assertEqual(rc, 1)
        self.assertIn('listed, but not as recorded', out)

    def test_stale_entries_fail(self):
        t = tap(('a.b.c', 'pass', []))
        rc, out = self.run_compare(t, t, '[iommufd]\na.b.c: fixed since\n')
        self.assertEqual(rc, 1)
        self.assertIn('STALE', out)
        rc, out = self.run_compare(t, t, '[iommufd]\nx.y.z: gone\n')
        self.assertEqual(rc, 1)
        self.assertIn('no such case: x.y.z', out)
        # entries of another section are not this run's
        rc, out = self.run_compare(t, t, '[uapi-check]\nx: other\n')
        self.assertEqual(rc, 0)

    def test_case_on_one_side_only_differs(self):
        rc, out = self.run_compare(tap(('a.b.c', 'pass', [])),
                                   tap(('a.b.c', 'pass', []),
                                       ('a.b.d', 'pass', [])))
        self.assertEqual(rc, 1)

    def test_steps_compare_info_lines_and_extra_lines(self):
        k = 'map-auto: ok\ninfo: map-auto iova=0x1000\ndone\n'
        rc, out = self.run_compare(k, k, steps=True, title='uapi-check')
        self.assertEqual(rc, 0)
        self.assertIn('3 of 3 steps agree', out)
        e = 'map-auto: ok\ninfo: map-auto iova=0x0\ndone\n'
        rc, out = self.run_compare(k, e, steps=True, title='uapi-check')
        self.assertEqual(rc, 1)
        known = ('[uapi-check]\ninfo.map-auto: a cause\n'
                 '    kernel: iova=0x1000\n    emulated: iova=0x0\n')
        rc, out = self.run_compare(k, e, known, steps=True,
                                   title='uapi-check')
        self.assertEqual(rc, 0)
        rc, out = self.run_compare(k, k + 'extra: x\n', steps=True,
                                   title='uapi-check')
        self.assertEqual(rc, 1)


if __name__ == '__main__':
    unittest.main()
