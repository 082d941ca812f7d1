/*
 * VNest simulated assignment: the device's DMA address space
 *
 * An IOMMU memory region in front of the assigned device: every access is
 * translated by the emulated host IOMMU (the HWPT the device's RID is
 * attached to), exactly as a VFIO device's DMA is translated only by the
 * host IOMMU. The host address the model yields is turned back into the
 * guest-physical address of that RAM; a fault gives no permission, so the
 * access fails as it would on hardware.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "exec/address-spaces.h"
#include "hw/pci/pci.h"
#include "hw/core/cpu.h"
#include "system/dma.h"
#include "vnest/host-dev.h"
#include "sim-assign-internal.h"
#include "trace.h"

#define SIM_PAGE_SIZE   4096ULL
/*
 * Interrupt messages: on x86 a write to the MSI window is an interrupt
 * request, which the IOMMU's interrupt remapping (not DMA translation)
 * handles; on s390 a write to the function's MSI address (the function
 * group's msia, which QEMU sets to ZPCI_MSI_ADDR for every group it
 * creates) is an adapter interrupt, which the zPCI platform handles
 * before any translation. Pass it to what the device sits behind, as
 * hardware does.
 */
#define X86_MSI_FIRST   0xfee00000ULL
#define X86_MSI_LAST    0xfeefffffULL
#define S390_MSI_FIRST  0xfe00000000000000ULL
#define S390_MSI_LAST   (S390_MSI_FIRST + SIM_PAGE_SIZE - 1)

void sim_assign_msi_window(VNestSimAssign *sa)
{
    const char *t = target_name();

    sa->msi_first = 1;
    sa->msi_last = 0;
    if (!strcmp(t, "x86_64") || !strcmp(t, "i386")) {
        sa->msi_first = X86_MSI_FIRST;
        sa->msi_last = X86_MSI_LAST;
    } else if (!strcmp(t, "s390x")) {
        sa->msi_first = S390_MSI_FIRST;
        sa->msi_last = S390_MSI_LAST;
    }
}

static unsigned flag_to_access(IOMMUAccessFlags flag)
{
    unsigned access = 0;

    if (flag & IOMMU_RO) {
        access |= EMU_DMA_READ;
    }
    if (flag & IOMMU_WO) {
        access |= EMU_DMA_WRITE;
    }
    return access ? access : EMU_DMA_READ;
}

static IOMMUTLBEntry sim_dma_translate(IOMMUMemoryRegion *iommu,
                                       hwaddr addr, IOMMUAccessFlags flag,
                                       int iommu_idx)
{
    VNestSimAssign *sa = container_of(iommu, VNestSimAssign, dma_mr);
    hwaddr page = addr & ~(SIM_PAGE_SIZE - 1);
    IOMMUTLBEntry entry = {
        .target_as = &address_space_memory,
        .iova = page,
        .addr_mask = SIM_PAGE_SIZE - 1,
        .perm = IOMMU_NONE,
    };
    EmuFaultInfo fault;
    hwaddr gpa;
    void *hva;

    if (!sa->edev) {
        return entry;
    }
    if (addr >= sa->msi_first && addr <= sa->msi_last) {
        entry.target_as = sa->viommu_as;
        entry.translated_addr = page;
        entry.perm = IOMMU_RW;
        return entry;
    }
    hva = emu_device_translate(sa->edev, EMU_NO_PASID, page, SIM_PAGE_SIZE,
                               flag_to_access(flag), &fault);
    if (!hva) {
        sa->dma_faults++;
        trace_vnest_sim_assign_dma_fault(sa->device_id, addr, flag,
                                         fault.reason);
        return entry;
    }
    if (!sim_assign_hva_to_gpa(sa, hva, &gpa)) {
        sa->dma_faults++;
        trace_vnest_sim_assign_dma_fault(sa->device_id, addr, flag,
                                         "not guest RAM");
        return entry;
    }
    entry.translated_addr = gpa;
    entry.perm = flag == IOMMU_NONE ? IOMMU_RO : flag;
    return entry;
}

/* ---- PASID-tagged DMA for device models (include/vnest/sim-assign.h) ---- */

#define SIM_PASID_LIMIT (1u << 20)      /* a PCIe PASID has 20 bits */

QEMU_BUILD_BUG_ON(VNEST_NO_PASID != EMU_NO_PASID);

typedef struct SimAssignLookup {
    PCIDevice *pdev;
    VNestSimAssign *sa;
} SimAssignLookup;

static int sim_assign_match_pdev(Object *obj, void *opaque)
{
    VNestSimAssign *sa = (VNestSimAssign *)
        object_dynamic_cast(obj, TYPE_VNEST_SIM_ASSIGN);
    SimAssignLookup *lookup = opaque;

    if (sa && sa->edev && sa->pdev == lookup->pdev) {
        lookup->sa = sa;
        return 1;
    }
    return 0;
}

/* The vnest-sim-assign object @pdev is assigned through, or NULL. */
static VNestSimAssign *sim_assign_of(PCIDevice *pdev)
{
    SimAssignLookup lookup = { .pdev = pdev };

    object_child_foreach(object_get_objects_root(), sim_assign_match_pdev,
                         &lookup);
    return lookup.sa;
}

bool vnest_sim_assign_pasid_capable(PCIDevice *pdev)
{
    return sim_assign_of(pdev) != NULL;
}

/*
 * One page's worth (at most) of a PASID-tagged transfer: translated by the
 * emulated host, then copied to or from that guest RAM through QEMU's
 * memory API (dirty tracking, TCG code invalidation).
 */
static MemTxResult sim_dma_pasid_chunk(VNestSimAssign *sa, uint32_t pasid,
                                       uint64_t addr, uint8_t *buf,
                                       uint64_t len, bool is_write,
                                       VNestPageRequest *pr)
{
    unsigned access = is_write ? EMU_DMA_WRITE : EMU_DMA_READ;
    EmuFaultInfo fault;
    hwaddr gpa;
    void *hva;

    hva = emu_device_translate(sa->edev, pasid, addr, len, access, &fault);
    if (!hva) {
        sa->dma_faults++;
        trace_vnest_sim_assign_dma_pasid_fault(sa->device_id, pasid, addr,
                                               is_write, fault.reason);
        if (pr && fault.page_request) {
            pr->sent = true;
            pr->grpid = fault.grpid;
            trace_vnest_sim_assign_page_request(sa->device_id, pasid, addr,
                                                is_write, fault.grpid);
        } else if (pr && fault.err == -EBUSY) {
            pr->exhausted = true;
        }
        return MEMTX_DECODE_ERROR;
    }
    if (!sim_assign_hva_to_gpa(sa, hva, &gpa)) {
        sa->dma_faults++;
        trace_vnest_sim_assign_dma_pasid_fault(sa->device_id, pasid, addr,
                                               is_write, "not guest RAM");
        return MEMTX_DECODE_ERROR;
    }
    return address_space_rw(&address_space_memory, gpa,
                            MEMTXATTRS_UNSPECIFIED, buf, len, is_write);
}

MemTxResult vnest_sim_assign_dma_rw_pri(PCIDevice *pdev, uint32_t pasid,
                                        uint64_t addr, void *buf,
                                        uint64_t len, bool is_write,
                                        VNestPageRequest *pr)
{
    VNestSimAssign *sa = NULL;
    MemTxResult r = MEMTX_OK;
    uint64_t done = 0;

    if (pr) {
        *pr = (VNestPageRequest) { 0 };
        sa = sim_assign_of(pdev);
    }
    if (pasid == VNEST_NO_PASID && !sa) {
        return pci_dma_rw(pdev, addr, buf, len,
                          is_write ? DMA_DIRECTION_FROM_DEVICE :
                                     DMA_DIRECTION_TO_DEVICE,
                          MEMTXATTRS_UNSPECIFIED);
    }
    if (!sa) {
        sa = sim_assign_of(pdev);
    }
    if (!sa || (pasid != VNEST_NO_PASID && pasid >= SIM_PASID_LIMIT) ||
        !(pci_get_word(pdev->config + PCI_COMMAND) & PCI_COMMAND_MASTER)) {
        trace_vnest_sim_assign_dma_pasid_refused(pdev->name, pasid,
                                                 !sa ? "not assigned" :
                                                 pasid >= SIM_PASID_LIMIT &&
                                                 pasid != VNEST_NO_PASID ?
                                                 "PASID too wide" :
                                                 "bus mastering off");
        return MEMTX_ERROR;
    }
    while (done < len && r == MEMTX_OK) {
        uint64_t cur = addr + done;
        uint64_t chunk = MIN(len - done,
                             SIM_PAGE_SIZE - (cur & (SIM_PAGE_SIZE - 1)));

        r = sim_dma_pasid_chunk(sa, pasid, cur, (uint8_t *)buf + done, chunk,
                                is_write, pr);
        done += chunk;
    }
    trace_vnest_sim_assign_dma_pasid(sa->device_id, pasid, addr, len,
                                     is_write, r);
    return r;
}

MemTxResult vnest_sim_assign_dma_rw(PCIDevice *pdev, uint32_t pasid,
                                    uint64_t addr, void *buf, uint64_t len,
                                    bool is_write)
{
    return vnest_sim_assign_dma_rw_pri(pdev, pasid, addr, buf, len, is_write,
                                       NULL);
}

QEMU_BUILD_BUG_ON(VNEST_PRG_SUCCESS != EMU_PRG_SUCCESS);
QEMU_BUILD_BUG_ON(VNEST_PRG_INVALID != EMU_PRG_INVALID);
QEMU_BUILD_BUG_ON(VNEST_PRG_FAILURE != EMU_PRG_FAILURE);
QEMU_BUILD_BUG_ON(VNEST_PRG_PENDING != EMU_PRG_PENDING);

int vnest_sim_assign_prg_status(PCIDevice *pdev, uint32_t grpid)
{
    VNestSimAssign *sa = sim_assign_of(pdev);

    return sa ? emu_device_prg_status(sa->edev, grpid) : -ENODEV;
}

void sim_assign_dma_init(VNestSimAssign *sa)
{
    g_autofree char *name = g_strdup_printf("vnest-sim-dma-%s",
                                            sa->device_id);

    memory_region_init_iommu(&sa->dma_mr, sizeof(sa->dma_mr),
                             TYPE_VNEST_SIM_DMA_MR, OBJECT(sa), name,
                             UINT64_MAX);
    address_space_init(&sa->dma_as, MEMORY_REGION(&sa->dma_mr), name);
}

static void sim_dma_mr_class_init(ObjectClass *klass, void *data)
{
    IOMMUMemoryRegionClass *imrc = IOMMU_MEMORY_REGION_CLASS(klass);

    imrc->translate = sim_dma_translate;
}

static const TypeInfo sim_dma_mr_info = {
    .parent = TYPE_IOMMU_MEMORY_REGION,
    .name = TYPE_VNEST_SIM_DMA_MR,
    .class_init = sim_dma_mr_class_init,
};

static void sim_dma_register_types(void)
{
    type_register_static(&sim_dma_mr_info);
}

type_init(sim_dma_register_types)
