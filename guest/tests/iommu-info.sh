# Sourced by guest tests: report what the guest kernel sees of its IOMMU
# and of one PCI device's IOMMU group, as VNEST: key=value lines.
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
