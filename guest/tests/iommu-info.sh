# Sourced by guest tests: report what the guest kernel sees of its IOMMU
# and of one PCI device's IOMMU group, as VNEST: key=value lines; find a
# PCI device and bind it to vfio-pci (find_pci, vfio_bind, below).
# Usage: iommu_report BDF
iommu_report() {
    local bdf=$1 u grp
    for u in /sys/class/iommu/*; do
        [ -e "$u" ] || { echo "VNEST: iommu=none"; break; }
        echo "VNEST: iommu=$(basename "$u")"
        if [ -d "$u/intel-iommu" ]; then
            echo "VNEST: iommu.version=$(cat "$u/intel-iommu/version")"
            echo "VNEST: iommu.cap=0x$(cat "$u/intel-iommu/cap")"
            echo "VNEST: iommu.ecap=0x$(cat "$u/intel-iommu/ecap")"
        fi
    done
    grp=/sys/bus/pci/devices/$bdf/iommu_group
    if [ -e "$grp" ]; then
        echo "VNEST: device.bdf=$bdf"
        echo "VNEST: device.iommu_group=$(basename "$(readlink "$grp")")"
        echo "VNEST: device.domain_type=$(cat "$grp/type")"
    else
        echo "VNEST: device.bdf=$bdf"
        echo "VNEST: device.iommu_group=none"
    fi
}

# find_pci VENDOR DEVICE: the BDF of the first such PCI device (exit 1: none)
find_pci() {
    local d
    for d in /sys/bus/pci/devices/*; do
        if [ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ]; then
            basename "$d"
            return 0
        fi
    done
    return 1
}

# vfio_bind BDF: vfio-pci takes the device (driver_override, then a probe);
# prints its cdev, /dev/vfio/devices/vfioN (exit 1: none appeared)
vfio_bind() {
    local cdev
    echo vfio-pci >"/sys/bus/pci/devices/$1/driver_override"
    echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null
    cdev=$(ls "/sys/bus/pci/devices/$1/vfio-dev" 2>/dev/null | head -n1)
    [ -n "$cdev" ] && [ -c "/dev/vfio/devices/$cdev" ] || return 1
    echo "/dev/vfio/devices/$cdev"
}
