/*
 * VNest arm-smmuv3 nesting: what the guest is offered, and the host's
 *
 * The accel=on options, spelled as upstream QEMU and libvirt spell them:
 *   ats=on|off       IDR0.ATS (default off)
 *   ril=on|off       IDR3.RIL (default on)
 *   ssidsize=0..20   IDR1.SSIDSIZE; above 0 also IDR0.CD2L (default 0)
 *   oas=32..48       IDR5.OAS, in bits (default 44)
 * and, read-only, smmu_per_bus: true for an instance that translates
 * one PCIe root bus only (-device arm-smmuv3,primary-bus=, hw/virt-smmu/),
 * false for -M virt,iommu=smmuv3's. libvirt 12.x looks for this property
 * before it accepts <iommu model='smmuv3'><driver pciBus=.../>.
 * The defaults are QEMU 10.0's ID registers: nothing changes for a user
 * who sets none. Without accel=on only the defaults are accepted. The
 * registers are written at reset, after smmuv3_init_regs() (hook 0010).
 *
 * At plug, IOMMU_GET_HW_INFO must show a host SMMUv3 that can back what
 * the guest is offered: its ID registers, field by field (the table
 * below), else the device is refused with the field and the option to
 * change. Linux 7.3's arm_smmu_hw_info() reports the raw registers; the
 * uAPI (struct iommu_hw_info_arm_smmuv3) names the fields user space may
 * read, and those are the ones read here, plus two it reports raw:
 * - IDR5.OAS: a nest parent's input size is the SMMU's OAS
 *   (arm_smmu_domain_finalise(), stage 2: ias = oas), so the guest's
 *   output addresses must fit it;
 * - IDR0.ATS: ATC_INV is refused without ARM_SMMU_FEAT_ATS
 *   (arm_vsmmu_validate_user_cmd()), so ats=on needs it.
 * Not read, as the uAPI says: S1P (a vIOMMU exists only with
 * ARM_SMMU_FEAT_NESTING, i.e. S1P and S2P: its allocation is the check),
 * COHACC (iommufd runs only on coherent SMMUs). BTM is not offered to the
 * guest (QEMU 10.0 has none, the kernel does not nest it).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qapi/visitor.h"
#include "qapi/qapi-visit-common.h"
#include "qemu/cutils.h"
#include "hw/qdev-core.h"
#include <linux/iommufd.h>
#include "vnest/iommufd-nest.h"
#include "smmu-nest-internal.h"
#include "trace.h"

/* IDR5.OAS encodings in bits (SMMUv3 spec 6.3.6); 6 is 52 */
static const uint8_t oas_bits[] = { 32, 36, 40, 42, 44, 48, 52 };

/* The largest OAS QEMU 10.0's own STE and CD decoders take */
#define SMMU_NEST_OAS_MAX   48
#define SMMU_NEST_SSID_MAX  20

static int oas_encoding(unsigned bits)
{
    unsigned i;

    for (i = 0; i < ARRAY_SIZE(oas_bits); i++) {
        if (oas_bits[i] == bits) {
            return i;
        }
    }
    return -1;
}

void smmu_nest_caps_init(SmmuNestCaps *c)
{
    /* QEMU 10.0's smmuv3_init_regs() */
    c->ats = ON_OFF_AUTO_OFF;
    c->ril = ON_OFF_AUTO_ON;
    c->ssidsize = 0;
    c->oas = 44;
}

/*
 * ---- properties ----
 *
 * Typed as libvirt 12.9 passes them in -device JSON: strings ("on",
 * "off"; a decimal number). "auto" (upstream: the host's value) parses,
 * and is refused at realize.
 */

static SmmuNestCaps *smmu_caps(Object *obj)
{
    return &smmu_nest_state(ARM_SMMUV3(obj))->caps;
}

static bool smmu_caps_settable(Object *obj, const char *name, Error **errp)
{
    if (DEVICE(obj)->realized) {
        error_setg(errp, "arm-smmuv3 property '%s' cannot change once the "
                   "device is realized", name);
        return false;
    }
    return true;
}

static void smmu_caps_get_onoff(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    OnOffAuto *field = (OnOffAuto *)((char *)smmu_caps(obj) +
                                     (uintptr_t)opaque);

    visit_type_OnOffAuto(v, name, field, errp);
}

static void smmu_caps_set_onoff(Object *obj, Visitor *v, const char *name,
                                void *opaque, Error **errp)
{
    OnOffAuto *field = (OnOffAuto *)((char *)smmu_caps(obj) +
                                     (uintptr_t)opaque);
    OnOffAuto value;

    if (smmu_caps_settable(obj, name, errp) &&
        visit_type_OnOffAuto(v, name, &value, errp)) {
        *field = value;
    }
}

static void smmu_caps_get_num(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    int *field = (int *)((char *)smmu_caps(obj) + (uintptr_t)opaque);
    g_autofree char *str = *field < 0 ? g_strdup("auto") :
                           g_strdup_printf("%d", *field);

    visit_type_str(v, name, &str, errp);
}

static void smmu_caps_set_num(Object *obj, Visitor *v, const char *name,
                              void *opaque, Error **errp)
{
    int *field = (int *)((char *)smmu_caps(obj) + (uintptr_t)opaque);
    g_autofree char *str = NULL;
    unsigned value;

    if (!smmu_caps_settable(obj, name, errp) ||
        !visit_type_str(v, name, &str, errp)) {
        return;
    }
    if (!strcmp(str, "auto")) {
        *field = -1;
    } else if (qemu_strtoui(str, NULL, 10, &value) || value > UINT8_MAX) {
        error_setg(errp, "arm-smmuv3 %s='%s': expected a number of bits",
                   name, str);
    } else {
        *field = value;
    }
}

/*
 * virt's plug handler gives each -device instance its x-virt-base
 * (hw/virt-smmu/virt-smmu.c); the machine's own has none.
 */
static bool smmu_per_bus_get(Object *obj, Error **errp)
{
    return object_property_find(obj, "x-virt-base") != NULL;
}

#define SMMU_CAP(name, field, type, desc) \
    { name, type, offsetof(SmmuNestCaps, field), desc }

void smmu_nest_caps_class_init(ObjectClass *klass)
{
    static const struct {
        const char *name;
        const char *type;
        size_t offset;
        const char *desc;
    } props[] = {
        SMMU_CAP("ats", ats, "OnOffAuto", "accel=on: offer ATS (IDR0.ATS); "
                 "the host SMMUv3 must have it (default off)"),
        SMMU_CAP("ril", ril, "OnOffAuto", "accel=on: offer range "
                 "invalidation (IDR3.RIL); the host SMMUv3 must have it "
                 "(default on)"),
        SMMU_CAP("ssidsize", ssidsize, "str", "accel=on: SubstreamID "
                 "bits offered (IDR1.SSIDSIZE, 0-20; above 0 with 2-level "
                 "CD tables), at most the host's (default 0)"),
        SMMU_CAP("oas", oas, "str", "accel=on: output address bits "
                 "offered (IDR5.OAS: 32, 36, 40, 42, 44 or 48), at most "
                 "the host's (default 44)"),
    };
    size_t i;

    for (i = 0; i < ARRAY_SIZE(props); i++) {
        bool num = !strcmp(props[i].type, "str");

        object_class_property_add(klass, props[i].name, props[i].type,
                                  num ? smmu_caps_get_num
                                      : smmu_caps_get_onoff,
                                  num ? smmu_caps_set_num
                                      : smmu_caps_set_onoff,
                                  NULL, (void *)props[i].offset);
        object_class_property_set_description(klass, props[i].name,
                                              props[i].desc);
    }
    object_class_property_add_bool(klass, "smmu_per_bus", smmu_per_bus_get,
                                   NULL);
    object_class_property_set_description(klass, "smmu_per_bus",
        "Read-only: this SMMU translates one PCIe root bus only "
        "(-device arm-smmuv3,primary-bus=...)");
}

/* ---- realize ---- */

/* The option QEMU 10.0 would not have, or NULL. */
static const char *smmu_caps_changed(const SmmuNestCaps *c)
{
    SmmuNestCaps def;

    smmu_nest_caps_init(&def);
    return c->ats != def.ats ? "ats" :
           c->ril != def.ril ? "ril" :
           c->ssidsize != def.ssidsize ? "ssidsize" :
           c->oas != def.oas ? "oas" : NULL;
}

/* The option left to the host's value ("auto"), or NULL */
static const char *smmu_caps_auto(const SmmuNestCaps *c)
{
    return c->ats == ON_OFF_AUTO_AUTO ? "ats" :
           c->ril == ON_OFF_AUTO_AUTO ? "ril" :
           c->ssidsize < 0 ? "ssidsize" :
           c->oas < 0 ? "oas" : NULL;
}

bool smmu_nest_caps_realize(VNestSmmu *n, Error **errp)
{
    const SmmuNestCaps *c = &n->caps;
    const char *opt = smmu_caps_changed(c);

    if (!n->accel) {
        if (opt) {
            error_setg(errp, "arm-smmuv3 option '%s' is for accel=on: set "
                       "accel=on or drop %s", opt, opt);
            return false;
        }
        return true;
    }
    opt = smmu_caps_auto(c);
    if (opt) {
        error_setg(errp, "arm-smmuv3 %s=auto (the host's value) is not "
                   "supported: give %s a value", opt, opt);
        return false;
    }
    if (c->ssidsize > SMMU_NEST_SSID_MAX) {
        error_setg(errp, "arm-smmuv3 ssidsize=%d: SubstreamIDs have at most "
                   "%u bits (IDR1.SSIDSIZE); set ssidsize=0..%u", c->ssidsize,
                   SMMU_NEST_SSID_MAX, SMMU_NEST_SSID_MAX);
        return false;
    }
    if (oas_encoding(c->oas) < 0 || c->oas > SMMU_NEST_OAS_MAX) {
        error_setg(errp, "arm-smmuv3 oas=%d: not an output address size "
                   "this SMMUv3 offers (IDR5.OAS); set oas=32, 36, 40, 42, "
                   "44 or 48", c->oas);
        return false;
    }
    if (c->ssidsize > 0) {
        /* docs/smmuv3-nesting.rst, Limits: smmu-nest-msi.c's path */
        warn_report("arm-smmuv3 ssidsize=%d: interrupt messages of a nested "
                    "device whose STE has S1CDMax > 0 do not reach the "
                    "guest yet (QEMU 10.0's SMMUv3 decodes a single CD)",
                    c->ssidsize);
    }
    return true;
}

/* ---- the guest's ID registers ---- */

/*
 * The fields of @idr that the host must back: the options' and those
 * QEMU 10.0's smmuv3_init_regs() sets for good (AArch64 tables, all three
 * granules). Known at plug, before the reset that writes s->idr.
 */
static void smmu_nest_offered(const SmmuNestCaps *c, uint32_t idr[6])
{
    memset(idr, 0, 6 * sizeof(idr[0]));
    idr[0] = FIELD_DP32(idr[0], IDR0, TTF, 2);
    idr[0] = FIELD_DP32(idr[0], IDR0, ATS, c->ats == ON_OFF_AUTO_ON);
    /* Linux allocates a linear CD table without CD2L: 64 MiB at 20 bits */
    idr[0] = FIELD_DP32(idr[0], IDR0, CD2L, c->ssidsize > 0);
    idr[1] = FIELD_DP32(idr[1], IDR1, SSIDSIZE, c->ssidsize);
    idr[3] = FIELD_DP32(idr[3], IDR3, RIL, c->ril == ON_OFF_AUTO_ON);
    idr[5] = FIELD_DP32(idr[5], IDR5, OAS, oas_encoding(c->oas));
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN4K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN16K, 1);
    idr[5] = FIELD_DP32(idr[5], IDR5, GRAN64K, 1);
}

/* The fields the options set, and those QEMU 10.0 sets for good */
static const uint32_t smmu_opt_fields[6] = {
    [0] = R_IDR0_ATS_MASK | R_IDR0_CD2L_MASK,
    [1] = R_IDR1_SSIDSIZE_MASK,
    [3] = R_IDR3_RIL_MASK,
    [5] = R_IDR5_OAS_MASK,
};
static const uint32_t smmu_fixed_fields[6] = {
    [0] = R_IDR0_TTF_MASK,
    [5] = R_IDR5_GRAN4K_MASK | R_IDR5_GRAN16K_MASK | R_IDR5_GRAN64K_MASK,
};

void vnest_smmuv3_init_regs(SMMUv3State *s)
{
    VNestSmmu *n = s->vnest;
    uint32_t idr[6];
    unsigned i;

    if (n) {
        smmu_s2fwb_init_regs(n);
    }
    if (!n || !n->realized) {
        return;                 /* accel=off: QEMU 10.0's registers */
    }
    smmu_nest_offered(&n->caps, idr);
    for (i = 0; i < ARRAY_SIZE(idr); i++) {
        s->idr[i] = (s->idr[i] & ~smmu_opt_fields[i]) |
                    (idr[i] & smmu_opt_fields[i]);
        /* What plug checked is what the guest reads */
        g_assert(!((s->idr[i] ^ idr[i]) & smmu_fixed_fields[i]));
    }
    trace_vnest_smmu_idrs(s->idr[0], s->idr[1], s->idr[3], s->idr[5]);
}

/* ---- plug: the host must back what the guest is offered ---- */

typedef enum SmmuCapCmp {
    CAP_HAS,        /* every bit offered set on the host too */
    CAP_MIN,        /* the host's value at least the one offered */
} SmmuCapCmp;

typedef struct SmmuCap {
    const char *field;          /* the ID register field, both sides */
    const char *what;
    unsigned idr, shift, len;
    SmmuCapCmp cmp;
    const char *fix;            /* what to change; %u: the host's value */
} SmmuCap;

static const SmmuCap smmu_caps_table[] = {
    /* arm_smmu_device_hw_probe() refuses an SMMU without it: a check */
    { "IDR0.TTF", "AArch64 translation tables", 0, 2, 2, CAP_HAS,
      "use arm-smmuv3 accel=off" },
    { "IDR0.ATS", "ATS", 0, 10, 1, CAP_HAS, "use arm-smmuv3 ats=off" },
    { "IDR0.CD2L", "2-level CD tables", 0, 19, 1, CAP_HAS,
      "use arm-smmuv3 ssidsize=0 (they come with SubstreamIDs)" },
    { "IDR1.SSIDSIZE", "SubstreamID bits", 1, 6, 5, CAP_MIN,
      "use arm-smmuv3 ssidsize=%u or less" },
    { "IDR3.RIL", "range invalidation", 3, 10, 1, CAP_HAS,
      "use arm-smmuv3 ril=off" },
    { "IDR5.OAS", "output address bits", 5, 0, 3, CAP_MIN,
      "use arm-smmuv3 oas=%u or less" },
    { "IDR5.GRAN4K", "the 4KB granule", 5, 4, 1, CAP_HAS,
      "use arm-smmuv3 accel=off" },
    { "IDR5.GRAN16K", "the 16KB granule", 5, 5, 1, CAP_HAS,
      "use arm-smmuv3 accel=off" },
    { "IDR5.GRAN64K", "the 64KB granule", 5, 6, 1, CAP_HAS,
      "use arm-smmuv3 accel=off" },
};

/* A field's value as the user counts it: OAS in bits */
static unsigned smmu_cap_user(const SmmuCap *cap, unsigned v)
{
    if (!strcmp(cap->field, "IDR5.OAS")) {
        return v < ARRAY_SIZE(oas_bits) ? oas_bits[v] : 0;
    }
    return v;
}

static bool smmu_cap_check(const SmmuCap *cap, const uint32_t *offered,
                           const struct iommu_hw_info_arm_smmuv3 *h,
                           const char *name, Error **errp)
{
    unsigned want = extract32(offered[cap->idr], cap->shift, cap->len);
    unsigned have = extract32(h->idr[cap->idr], cap->shift, cap->len);
    g_autofree char *fix = NULL;

    if (cap->cmp == CAP_HAS ? !(want & ~have) : have >= want) {
        return true;
    }
    fix = g_strdup_printf(cap->fix, smmu_cap_user(cap, have));
    if (cap->cmp == CAP_HAS) {
        error_setg(errp, "%s: the host SMMUv3 lacks %s (%s), which "
                   "arm-smmuv3,accel=on offers the guest: %s", name,
                   cap->what, cap->field, fix);
    } else {
        error_setg(errp, "%s: the host SMMUv3 has %u %s (%s), "
                   "arm-smmuv3,accel=on offers the guest %u: %s", name,
                   smmu_cap_user(cap, have), cap->what, cap->field,
                   smmu_cap_user(cap, want), fix);
    }
    return false;
}

bool smmu_nest_caps_check(VNestSmmu *n, const VNestHwInfo *hw,
                          const char *name, Error **errp)
{
    const struct iommu_hw_info_arm_smmuv3 *h = &hw->data.smmuv3;
    uint32_t offered[6];
    size_t i;

    trace_vnest_smmu_host_idrs(h->idr[0], h->idr[1], h->idr[3], h->idr[5],
                               h->flags);
    smmu_nest_offered(&n->caps, offered);
    for (i = 0; i < ARRAY_SIZE(smmu_caps_table); i++) {
        if (!smmu_cap_check(&smmu_caps_table[i], offered, h, name, errp)) {
            return false;
        }
    }
    /*
     * T264-SMMU-3: the kernel repeats its own TLBI/CFGI + SYNC, not those
     * user space sends through a vIOMMU (arm_vsmmu_cache_invalidate()
     * issues them once): smmu-nest-cmd.c sends them twice. Nothing of it
     * is guest-visible. All devices share the vIOMMU, hence one SMMU.
     */
    if (h->flags & IOMMU_HW_INFO_ARM_SMMUV3_ERRATA_REPEAT_TLBI_CFGI) {
        n->repeat_inv = true;
    }
    return true;
}
