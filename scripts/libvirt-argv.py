#!/usr/bin/env python3
"""The QEMU command line libvirt makes, checked against VNest's QEMU.

  libvirt-argv.py split ARGV_FILE [stand-in]
      ARGV_FILE is `virsh domxml-to-native qemu-argv` output (one shell
      command: environment assignments, then the emulator and its
      arguments). Prints each environment assignment and argument
      NUL-terminated, environment first, then a lone "--" entry. With
      "stand-in", every vfio-pci -device (a host device: none exists
      here) becomes an emulated NVMe with the same id, bus and addr, and
      a vnest-sim-assign object assigns it through the same iommufd
      object; nothing else changes. Exits 1 if there is no vfio-pci
      device with an iommufd link, or the iommufd object is missing.
  libvirt-argv.py qmp SOCKET
      Talks to the QEMU started from it (paused, -S): the machine is
      there, every stand-in is assigned through its iommufd (the
      iommufd object holds what binding and attaching made), intel-iommu has the properties
      libvirt and <qemu:override> set; then quits QEMU. Exits 1 on any
      difference.
"""
import json
import shlex
import socket
import sys
import time


def split(path, stand_in):
    words = shlex.split(open(path).read())
    env = []
    while words and '=' in words[0] and not words[0].startswith('/'):
        env.append(words.pop(0))
    out = []
    iommufd_ids = []
    vfio = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ('-object', '-device') and i + 1 < len(words):
            arg = words[i + 1]
            spec = json.loads(arg) if arg.startswith('{') else None
            if w == '-object' and spec and spec.get('qom-type') == 'iommufd':
                iommufd_ids.append(spec['id'])
            if w == '-device' and spec and spec.get('driver') == 'vfio-pci':
                if 'iommufd' not in spec:
                    print('vfio-pci device %s has no iommufd link' %
                          spec.get('id'), file=sys.stderr)
                    sys.exit(1)
                vfio.append(spec)
                if stand_in:
                    nvme = {'driver': 'nvme', 'id': spec['id'],
                            'serial': 'standin-' + spec['id']}
                    for k in ('bus', 'addr'):
                        if k in spec:
                            nvme[k] = spec[k]
                    out += ['-device', json.dumps(nvme, separators=(',', ':'))]
                    out += ['-object', json.dumps({
                        'qom-type': 'vnest-sim-assign',
                        'id': 'standin-' + spec['id'],
                        'iommufd': spec['iommufd'],
                        'device': spec['id']}, separators=(',', ':'))]
                    i += 2
                    continue
        out.append(w)
        i += 1
    if not vfio:
        print('no vfio-pci device in the command line', file=sys.stderr)
        sys.exit(1)
    for spec in vfio:
        if spec['iommufd'] not in iommufd_ids:
            print('vfio-pci %s links iommufd %s, which is not there' %
                  (spec['id'], spec['iommufd']), file=sys.stderr)
            sys.exit(1)
    for e in env:
        sys.stdout.write(e + '\0')
    sys.stdout.write('--\0')
    for w in out:
        sys.stdout.write(w + '\0')


class Qmp:
    def __init__(self, path):
        for _ in range(100):
            try:
                self.s = socket.socket(socket.AF_UNIX)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit('cannot connect to QMP at %s' % path)
        self.f = self.s.makefile('rw')
        json.loads(self.f.readline())
        self.cmd('qmp_capabilities')

    def cmd(self, name, **args):
        self.f.write(json.dumps({'execute': name, 'arguments': args}) + '\n')
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if 'event' in r:
                continue
            if 'error' in r:
                raise RuntimeError('%s: %s' % (name, r['error']['desc']))
            return r['return']


def qmp(path):
    q = Qmp(path)
    bad = 0
    status = q.cmd('query-status')['status']
    print('   QEMU status:   %s' % status)
    bad += status != 'prelaunch'
    objs = q.cmd('qom-list', path='/objects')
    for d in objs:
        if d['name'].startswith('standin-'):
            dev = q.cmd('qom-get', path='/objects/' + d['name'],
                        property='device')
            print('   stand-in:      %s assigned by %s' % (dev, d['name']))
    for d in objs:
        if d['type'] != 'child<iommufd>':
            continue
        # What the device bound and attached left in the emulated host.
        n = q.cmd('qom-get', path='/objects/' + d['name'],
                  property='x-objects')
        print('   iommufd %s: %d objects in the emulated host' % (d['name'], n))
        bad += n == 0
    for prop, want in (('x-scalable-mode', True), ('x-flts', True),
                       ('caching-mode', True)):
        got = q.cmd('qom-get', path='/machine/peripheral/iommu0',
                    property=prop)
        print('   intel-iommu:   %s=%s' % (prop, got))
        bad += got != want
    q.cmd('quit')
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    if len(sys.argv) >= 3 and sys.argv[1] == 'split':
        split(sys.argv[2], len(sys.argv) > 3 and sys.argv[3] == 'stand-in')
    elif len(sys.argv) == 3 and sys.argv[1] == 'qmp':
        qmp(sys.argv[2])
    else:
        sys.exit(__doc__)
