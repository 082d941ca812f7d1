/*
 * VNest: the emulated mode of QEMU's iommufd backend object
 *
 * The per-instance state hangs off the backend as a hidden QOM property
 * whose release callback frees it, so QEMU's own backend code only needs
 * the hooks declared in include/vnest/iommufd-emulated.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <linux/iommufd.h>
#include "qapi/error.h"
#include "qapi/qapi-visit-common.h"
#include "qapi/visitor.h"
#include "qemu/error-report.h"
#include "hw/core/cpu.h"
#include "vnest/iommufd-emulated.h"
#include "iommufd-emu.h"
#include "trace.h"

#define STATE_PROP "x-vnest-emulated-state"

typedef struct VNestEmu {
    OnOffAuto emulated;
    char *host_iommu;           /* vtd, smmuv3, paging; NULL: by target */
    bool host_nesting;
    uint64_t fail_nth;          /* x-fail-nth, as last armed */
    bool fail_pending;          /* ... before the host existed: at connect */
    int host_pasid_bits;        /* x-host-pasid-bits, -1: the model's */
    OnOffAuto host_fs1gp;       /* x-host-fs1gp */
    bool host_errata_spr17;     /* x-host-errata-spr17 */
    /* The SMMUv3's ID register fields (IOMMU_GET_HW_INFO), -1 / auto:
     * the model's */
    int host_ssid_bits;         /* x-host-ssid-bits: IDR1.SSIDSIZE */
    int host_oas;               /* x-host-oas: IDR5.OAS, in bits */
    OnOffAuto host_ril;         /* x-host-ril: IDR3.RIL */
    OnOffAuto host_ats;         /* x-host-ats: IDR0.ATS */
    OnOffAuto host_cd2l;        /* x-host-cd2l: IDR0.CD2L */
    OnOffAuto host_gran16k;     /* x-host-gran16k: IDR5.GRAN16K */
    OnOffAuto host_gran64k;     /* x-host-gran64k: IDR5.GRAN64K */
    OnOffAuto host_errata_t264; /* x-host-errata-t264: hw_info flags */
    EmuHost *host;
    EmuIommu *iommu;
    EmuCtx *ctx;
} VNestEmu;

static void state_release(Object *obj, const char *name, void *opaque)
{
    VNestEmu *emu = opaque;

    g_free(emu->host_iommu);
    g_free(emu);
}

static VNestEmu *emu_state(IOMMUFDBackend *be, bool create)
{
    ObjectProperty *prop = object_property_find(OBJECT(be), STATE_PROP);
    VNestEmu *emu;

    if (prop || !create) {
        return prop ? prop->opaque : NULL;
    }
    emu = g_new0(VNestEmu, 1);
    emu->emulated = ON_OFF_AUTO_AUTO;
    emu->host_nesting = true;
    emu->host_errata_spr17 = true;      /* as Linux 7.3 on any VT-d */
    emu->host_pasid_bits = -1;
    emu->host_fs1gp = ON_OFF_AUTO_AUTO;
    emu->host_ssid_bits = -1;
    emu->host_oas = -1;
    emu->host_ril = emu->host_ats = emu->host_cd2l = ON_OFF_AUTO_AUTO;
    emu->host_gran16k = emu->host_gran64k = ON_OFF_AUTO_AUTO;
    emu->host_errata_t264 = ON_OFF_AUTO_AUTO;
    object_property_add(OBJECT(be), STATE_PROP, "VNestEmu", NULL, NULL,
                        state_release, emu);
    return emu;
}

static void get_emulated(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_OnOffAuto(v, name, &emu->emulated, errp);
}

static void set_emulated(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_OnOffAuto(v, name, &emu->emulated, errp);
}

static char *get_host_iommu(Object *obj, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    return g_strdup(emu->host_iommu ? emu->host_iommu : "");
}

static void set_host_iommu(Object *obj, const char *value, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    if (strcmp(value, "vtd") && strcmp(value, "smmuv3") &&
        strcmp(value, "paging")) {
        error_setg(errp, "host-iommu must be vtd, smmuv3 or paging, "
                   "not '%s'", value);
        return;
    }
    g_free(emu->host_iommu);
    emu->host_iommu = g_strdup(value);
}

static bool get_host_nesting(Object *obj, Error **errp)
{
    return emu_state(IOMMUFD_BACKEND(obj), true)->host_nesting;
}

static void set_host_nesting(Object *obj, bool value, Error **errp)
{
    emu_state(IOMMUFD_BACKEND(obj), true)->host_nesting = value;
}

/*
 * Failure injection, for tests and fail-nth sweeps through QEMU: the Nth
 * host operation from now fails with ENOMEM (0 disarms), as the kernel's
 * fail_nth does; set on the command line (before the first device
 * connects), the Nth from the connect, so that plug-time setup can be
 * swept too. Reading gives the value last armed.
 */
static void get_fail_nth(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_uint64(v, name, &emu->fail_nth, errp);
}

static void set_fail_nth(Object *obj, Visitor *v, const char *name,
                         void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    uint64_t nth;

    if (!visit_type_uint64(v, name, &nth, errp)) {
        return;
    }
    emu->fail_nth = nth;
    if (!emu->host) {
        emu->fail_pending = nth != 0;
        return;
    }
    emu_host_fail_nth(emu->host, nth, ENOMEM);
}

/* The emulated host's hardware, narrower than the model's default. */
static void get_host_pasid_bits(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    uint8_t bits = emu->host_pasid_bits < 0 ? 0 : emu->host_pasid_bits;

    visit_type_uint8(v, name, &bits, errp);
}

static void set_host_pasid_bits(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    uint8_t bits;

    if (!visit_type_uint8(v, name, &bits, errp)) {
        return;
    }
    if (bits > 20) {
        error_setg(errp, "x-host-pasid-bits=%u: PASIDs have at most 20 "
                   "bits", bits);
        return;
    }
    emu->host_pasid_bits = bits;
}

static void get_host_fs1gp(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_OnOffAuto(v, name, &emu->host_fs1gp, errp);
}

static void set_host_fs1gp(Object *obj, Visitor *v, const char *name,
                           void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_OnOffAuto(v, name, &emu->host_fs1gp, errp);
}

/*
 * The emulated SMMUv3's features: an OnOffAuto field of VNestEmu at
 * offset @opaque (auto: the model's), an int of bits (-1: the model's).
 */
/* Get and set alike: the visitor reads or writes the field. */
static void prop_host_onoff(Object *obj, Visitor *v, const char *name,
                            void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);

    visit_type_OnOffAuto(v, name,
                         (OnOffAuto *)((char *)emu + (uintptr_t)opaque),
                         errp);
}

static void get_host_bits(Object *obj, Visitor *v, const char *name,
                          void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    int value = *(int *)((char *)emu + (uintptr_t)opaque);
    uint8_t bits = value < 0 ? 0 : value;

    visit_type_uint8(v, name, &bits, errp);
}

static void set_host_bits(Object *obj, Visitor *v, const char *name,
                          void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    bool oas = (uintptr_t)opaque == offsetof(VNestEmu, host_oas);
    uint8_t bits;

    if (!visit_type_uint8(v, name, &bits, errp)) {
        return;
    }
    /* SMMUv3 IDR5.OAS encodings; IDR1.SSIDSIZE up to 20 */
    if (oas ? bits != 32 && bits != 36 && bits != 40 && bits != 42 &&
              bits != 44 && bits != 48 && bits != 52
            : bits > 20) {
        error_setg(errp, "%s=%u: %s", name, bits,
                   oas ? "an SMMUv3 OAS is 32, 36, 40, 42, 44, 48 or 52 bits"
                       : "SubstreamIDs have at most 20 bits");
        return;
    }
    *(int *)((char *)emu + (uintptr_t)opaque) = bits;
}

static bool get_host_spr17(Object *obj, Error **errp)
{
    return emu_state(IOMMUFD_BACKEND(obj), true)->host_errata_spr17;
}

static void set_host_spr17(Object *obj, bool value, Error **errp)
{
    emu_state(IOMMUFD_BACKEND(obj), true)->host_errata_spr17 = value;
}

static char *get_fail_site(Object *obj, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    const char *site = emu->host ? emu_host_fail_site(emu->host) : NULL;

    return g_strdup(site ? site : "");
}

/* Objects alive in the emulated host: a leak check while QEMU runs. */
static void get_objects(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    VNestEmu *emu = emu_state(IOMMUFD_BACKEND(obj), true);
    EmuStats st = { 0 };

    if (emu->host) {
        emu_host_stats(emu->host, &st);
    }
    visit_type_uint64(v, name, &st.objects, errp);
}

#define HOST_SMMU(field, prop, type, desc) \
    { "x-host-" prop, type, offsetof(VNestEmu, field), desc }

static void smmu_class_init(ObjectClass *oc)
{
    static const struct {
        const char *name;
        const char *type;
        size_t offset;
        const char *desc;
    } props[] = {
        HOST_SMMU(host_ssid_bits, "ssid-bits", "uint8",
                  "IDR1.SSIDSIZE, SubstreamID bits (0-20, default 20)"),
        HOST_SMMU(host_oas, "oas", "uint8",
                  "IDR5.OAS in bits, also the nest parent's input size "
                  "(default 48)"),
        HOST_SMMU(host_ril, "ril", "OnOffAuto",
                  "IDR3.RIL, range invalidation (auto: on)"),
        HOST_SMMU(host_ats, "ats", "OnOffAuto",
                  "IDR0.ATS, ATC_INV accepted (auto: off)"),
        HOST_SMMU(host_cd2l, "cd2l", "OnOffAuto",
                  "IDR0.CD2L, 2-level CD tables (auto: on)"),
        HOST_SMMU(host_gran16k, "gran16k", "OnOffAuto",
                  "IDR5.GRAN16K (auto: on)"),
        HOST_SMMU(host_gran64k, "gran64k", "OnOffAuto",
                  "IDR5.GRAN64K (auto: on)"),
        HOST_SMMU(host_errata_t264, "errata-t264", "OnOffAuto",
                  "erratum T264-SMMU-3 reported: user space repeats its "
                  "TLBI/CFGI + SYNC (auto: off)"),
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(props); i++) {
        bool bits = !strcmp(props[i].type, "uint8");
        g_autofree char *desc = g_strdup_printf("Emulated host SMMUv3 only: "
                                                "%s", props[i].desc);

        object_class_property_add(oc, props[i].name, props[i].type,
                                  bits ? get_host_bits : prop_host_onoff,
                                  bits ? set_host_bits : prop_host_onoff,
                                  NULL, (void *)props[i].offset);
        object_class_property_set_description(oc, props[i].name, desc);
    }
}

void vnest_iommufd_class_init(ObjectClass *oc)
{
    smmu_class_init(oc);
    object_class_property_add(oc, "x-host-pasid-bits", "uint8",
                              get_host_pasid_bits, set_host_pasid_bits,
                              NULL, NULL);
    object_class_property_set_description(oc, "x-host-pasid-bits",
        "Emulated host only: PASID width of its devices (0-20)");
    object_class_property_add_bool(oc, "x-host-errata-spr17",
                                   get_host_spr17, set_host_spr17);
    object_class_property_set_description(oc, "x-host-errata-spr17",
        "Emulated host only: its VT-d reports erratum 772415 (SPR17): a "
        "nest parent takes no read-only mapping (default on, as Linux 7.3 "
        "on any VT-d)");
    object_class_property_add(oc, "x-host-fs1gp", "OnOffAuto",
                              get_host_fs1gp, set_host_fs1gp, NULL, NULL);
    object_class_property_set_description(oc, "x-host-fs1gp",
        "Emulated host only: whether its VT-d has first-stage 1 GiB pages "
        "(auto: the model's default, on)");
    object_class_property_add_str(oc, "x-fail-site", get_fail_site, NULL);
    object_class_property_set_description(oc, "x-fail-site",
        "Emulated host only: where the failure x-fail-nth armed hit "
        "(file:line), empty if it did not");
    object_class_property_add(oc, "x-objects", "uint64", get_objects,
                              NULL, NULL, NULL);
    object_class_property_set_description(oc, "x-objects",
        "Emulated host only: objects alive in it now");
    object_class_property_add(oc, "x-fail-nth", "uint64", get_fail_nth,
                              set_fail_nth, NULL, NULL);
    object_class_property_set_description(oc, "x-fail-nth",
        "Emulated host only: make its Nth operation from now fail with "
        "ENOMEM (0: none)");
    object_class_property_add(oc, "emulated", "OnOffAuto", get_emulated,
                              set_emulated, NULL, NULL);
    object_class_property_set_description(oc, "emulated",
        "Use VNest's emulated host IOMMU instead of /dev/iommu "
        "(auto: when /dev/iommu is absent)");
    object_class_property_add_str(oc, "host-iommu", get_host_iommu,
                                  set_host_iommu);
    object_class_property_set_description(oc, "host-iommu",
        "Emulated host IOMMU hardware: vtd, smmuv3 or paging "
        "(default: the target's own)");
    object_class_property_add_bool(oc, "host-nesting", get_host_nesting,
                                   set_host_nesting);
    object_class_property_set_description(oc, "host-nesting",
        "Emulated host IOMMU offers nesting (default on)");
}

bool vnest_iommufd_emulated(IOMMUFDBackend *be)
{
    VNestEmu *emu = emu_state(be, false);
    OnOffAuto mode = emu ? emu->emulated : ON_OFF_AUTO_AUTO;

    if (mode == ON_OFF_AUTO_AUTO) {
        /* An fd passed in is a kernel iommufd; else use the kernel if any */
        return be->owned && access("/dev/iommu", R_OK | W_OK) != 0;
    }
    return mode == ON_OFF_AUTO_ON;
}

static const char *default_hw(void)
{
    const char *t = target_name();

    if (!strcmp(t, "aarch64") || !strcmp(t, "arm")) {
        return "smmuv3";
    }
    if (!strcmp(t, "s390x")) {
        return "paging";
    }
    return "vtd";
}

static void onoff_apply(OnOffAuto v, bool *field)
{
    if (v != ON_OFF_AUTO_AUTO) {
        *field = v == ON_OFF_AUTO_ON;
    }
}

/* The x-host-* SMMUv3 ID register fields over the model's defaults */
static void emu_smmu_config(VNestEmu *emu, EmuHwConfig *cfg)
{
    if (emu->host_ssid_bits >= 0) {
        /* a device's PASIDs are at most the SMMU's SubstreamIDs */
        cfg->smmu.ssid_bits = emu->host_ssid_bits;
        cfg->pasid_bits = MIN(cfg->pasid_bits, cfg->smmu.ssid_bits);
    }
    if (emu->host_oas >= 0) {
        /* arm_smmu_domain_finalise(): a stage 2's input size is the OAS */
        cfg->ias = emu->host_oas;
    }
    onoff_apply(emu->host_ril, &cfg->smmu.ril);
    onoff_apply(emu->host_ats, &cfg->smmu.ats);
    onoff_apply(emu->host_cd2l, &cfg->smmu.cd2l);
    onoff_apply(emu->host_gran16k, &cfg->smmu.gran16k);
    onoff_apply(emu->host_gran64k, &cfg->smmu.gran64k);
    onoff_apply(emu->host_errata_t264, &cfg->smmu.errata_t264);
}

static bool emu_host_create(VNestEmu *emu, Error **errp)
{
    const char *hw = emu->host_iommu ? emu->host_iommu : default_hw();
    EmuHwKind kind = !strcmp(hw, "smmuv3") ? EMU_HW_SMMUV3 :
                     !strcmp(hw, "paging") ? EMU_HW_PAGING : EMU_HW_VTD;
    EmuHwConfig cfg;
    int rc;

    emu_hw_config_default(&cfg, kind);
    cfg.nesting = cfg.nesting && emu->host_nesting;
    if (emu->host_pasid_bits >= 0) {
        cfg.pasid_bits = emu->host_pasid_bits;
    }
    if (kind == EMU_HW_VTD && emu->host_fs1gp != ON_OFF_AUTO_AUTO) {
        cfg.vtd.fs1gp = emu->host_fs1gp == ON_OFF_AUTO_ON;
    }
    if (kind == EMU_HW_VTD) {
        cfg.vtd.errata_spr17 = emu->host_errata_spr17;
    }
    if (kind == EMU_HW_SMMUV3) {
        emu_smmu_config(emu, &cfg);
    }
    emu->host = emu_host_new();
    rc = emu_host_add_iommu(emu->host, &cfg, &emu->iommu);
    if (rc) {
        error_setg_errno(errp, -rc, "cannot create emulated host IOMMU %s",
                         hw);
        emu_host_free(emu->host);
        emu->host = NULL;
        return false;
    }
    emu->ctx = emu_ctx_open(emu->host);
    if (!emu->ctx) {
        error_setg_errno(errp, errno, "cannot open emulated host IOMMU %s",
                         hw);
        emu_host_free(emu->host);
        emu->host = NULL;
        return false;
    }
    if (emu->fail_pending) {
        emu->fail_pending = false;
        emu_host_fail_nth(emu->host, emu->fail_nth, ENOMEM);
    }
    trace_vnest_iommufd_emu_connect(hw, cfg.nesting, 1);
    return true;
}

bool vnest_iommufd_emu_connect(IOMMUFDBackend *be, Error **errp)
{
    VNestEmu *emu = emu_state(be, true);

    if (!be->owned) {
        error_setg(errp, "iommufd: emulated=on cannot use a passed-in fd");
        return false;
    }
    if (!be->users && !emu_host_create(emu, errp)) {
        return false;
    }
    be->users++;
    return true;
}

void vnest_iommufd_emu_disconnect(IOMMUFDBackend *be)
{
    VNestEmu *emu = emu_state(be, false);
    unsigned leaks = 0;

    if (!emu || !be->users) {
        return;
    }
    if (--be->users == 0) {
        emu_ctx_close(emu->ctx);
        leaks = emu_host_free(emu->host);
        if (leaks) {
            error_report("iommufd: emulated host IOMMU leaked %u objects",
                         leaks);
        }
        emu->ctx = NULL;
        emu->host = NULL;
        emu->iommu = NULL;
    }
    trace_vnest_iommufd_emu_disconnect(be->users, leaks);
}

static const char *cmd_name(unsigned long cmd)
{
    static const char *const names[] = {
        "DESTROY", "IOAS_ALLOC", "IOAS_ALLOW_IOVAS", "IOAS_COPY",
        "IOAS_IOVA_RANGES", "IOAS_MAP", "IOAS_UNMAP", "OPTION", "VFIO_IOAS",
        "HWPT_ALLOC", "GET_HW_INFO", "HWPT_SET_DIRTY_TRACKING",
        "HWPT_GET_DIRTY_BITMAP", "HWPT_INVALIDATE", "FAULT_QUEUE_ALLOC",
        "IOAS_MAP_FILE", "VIOMMU_ALLOC", "VDEVICE_ALLOC",
        "IOAS_CHANGE_PROCESS", "VEVENTQ_ALLOC",
    };
    unsigned long nr = _IOC_NR(cmd) - IOMMUFD_CMD_BASE;

    return nr < ARRAY_SIZE(names) ? names[nr] : "?";
}

int vnest_iommufd_ioctl(IOMMUFDBackend *be, unsigned long cmd, void *arg)
{
    VNestEmu *emu = emu_state(be, false);
    int ret;

    if (!emu || !emu->ctx) {
        return ioctl(be->fd, cmd, arg);
    }
    ret = emu_ctx_ioctl(emu->ctx, cmd, arg);
    trace_vnest_iommufd_emu_ioctl(cmd_name(cmd), ret < 0 ? errno : 0);
    return ret;
}

EmuHost *vnest_iommufd_emu_host(IOMMUFDBackend *be)
{
    VNestEmu *emu = emu_state(be, false);

    return emu ? emu->host : NULL;
}

EmuIommu *vnest_iommufd_emu_iommu(IOMMUFDBackend *be)
{
    VNestEmu *emu = emu_state(be, false);

    return emu ? emu->iommu : NULL;
}

EmuCtx *vnest_iommufd_emu_ctx(IOMMUFDBackend *be)
{
    VNestEmu *emu = emu_state(be, false);

    return emu ? emu->ctx : NULL;
}
