/*
 * VNest s390 zPCI: the zPCI instructions for qtests
 *
 * A qtest runs no guest code (the qtest accelerator executes nothing), and
 * libqos has no s390 PCI. The zpci device's x-insn property runs one zPCI
 * instruction on CPU 0 through the same service-call functions that TCG's
 * and KVM's instruction handlers call, with the operands in general
 * registers as the instruction has them; x-insn-result reports the
 * condition code and the registers afterwards. Only the decoding of the
 * instruction text is skipped. Program exceptions cannot be delivered
 * without a running CPU: tests give only operands that do not cause one.
 *
 *   "clp ADDR"               CLP, request block at ADDR (r2)
 *   "mpcifc R1 FIBA"         MPCIFC, r1 = R1, FIB at FIBA
 *   "rpcit R1 ADDR LEN"      RPCIT, r1 = R1, r2/r2+1 = ADDR, LEN
 *   "pcilg R2 OFFSET"        PCILG, r2/r2+1 = R2, OFFSET; data in r1
 *   "pcistg DATA R2 OFFSET"  PCISTG, r1 = DATA, r2/r2+1 = R2, OFFSET
 *   "sclp-deconfigure FID"   SCLP DECONFIGURE I/O ADAPTER of function FID
 *                            (a zPCI function's way to standby, which
 *                            completes a requested unplug); the SCCB's
 *                            response code in r1
 *
 * Refused unless the accelerator is qtest: with a running CPU the
 * registers are the guest's.
 *
 * Registers used: r1 is GR 2, r2 is GR 4 (even, as RPCIT and PCILG need).
 * x-insn-result: "CC GR2 GR4 GR5" (decimal cc, hexadecimal registers).
 * x-fh: the function handle (what CLP LIST PCI would tell the guest).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "hw/core/cpu.h"
#include "hw/s390x/s390-pci-bus.h"
#include "hw/s390x/s390-pci-inst.h"
#include "hw/s390x/sclp.h"
#include "system/qtest.h"
#include "target/s390x/cpu.h"
#include "zpci-iommufd-internal.h"

#define INSN_R1 2
#define INSN_R2 4

static char *insn_result;

static bool insn_run(S390CPU *cpu, char **w, guint n, Error **errp)
{
    CPUS390XState *env = &cpu->env;
    uint64_t a[3] = { 0 };
    guint i;

    for (i = 1; i < n && i <= ARRAY_SIZE(a); i++) {
        a[i - 1] = g_ascii_strtoull(w[i], NULL, 0);
    }
    if (!strcmp(w[0], "clp") && n == 2) {
        env->regs[INSN_R2] = a[0];
        clp_service_call(cpu, INSN_R2, 0);
    } else if (!strcmp(w[0], "mpcifc") && n == 3) {
        env->regs[INSN_R1] = a[0];
        mpcifc_service_call(cpu, INSN_R1, a[1], 0, 0);
    } else if (!strcmp(w[0], "rpcit") && n == 4) {
        env->regs[INSN_R1] = a[0];
        env->regs[INSN_R2] = a[1];
        env->regs[INSN_R2 + 1] = a[2];
        rpcit_service_call(cpu, INSN_R1, INSN_R2, 0);
    } else if (!strcmp(w[0], "pcilg") && n == 3) {
        env->regs[INSN_R2] = a[0];
        env->regs[INSN_R2 + 1] = a[1];
        pcilg_service_call(cpu, INSN_R1, INSN_R2, 0);
    } else if (!strcmp(w[0], "pcistg") && n == 4) {
        env->regs[INSN_R1] = a[0];
        env->regs[INSN_R2] = a[1];
        env->regs[INSN_R2 + 1] = a[2];
        pcistg_service_call(cpu, INSN_R1, INSN_R2, 0);
    } else if (!strcmp(w[0], "sclp-deconfigure") && n == 2) {
        /* As sclp.c hands it over: the SCCB copied out of guest memory */
        IoaCfgSccb sccb = {
            .header.length = cpu_to_be16(sizeof(sccb)),
            .atype = SCLP_RECONFIG_PCI_ATYPE,
            .aid = cpu_to_be32(a[0]),
        };

        s390_pci_sclp_deconfigure((SCCB *)&sccb);
        env->regs[INSN_R1] = be16_to_cpu(sccb.header.response_code);
    } else {
        error_setg(errp, "x-insn: unknown instruction or operands '%s'",
                   w[0]);
        return false;
    }
    return true;
}

static void insn_set(Object *obj, const char *value, Error **errp)
{
    S390CPU *cpu = S390_CPU(qemu_get_cpu(0));
    g_auto(GStrv) w = g_strsplit(value, " ", 0);
    CPUS390XState *env = &cpu->env;

    /* A running CPU's registers are the guest's: qtest only. */
    if (!qtest_enabled()) {
        error_setg(errp, "x-insn is for qtests (-accel qtest) only");
        return;
    }
    if (!w[0]) {
        error_setg(errp, "x-insn: empty");
        return;
    }
    setcc(cpu, 0);
    if (!insn_run(cpu, w, g_strv_length(w), errp)) {
        return;
    }
    g_free(insn_result);
    insn_result = g_strdup_printf("%u 0x%" PRIx64 " 0x%" PRIx64
                                  " 0x%" PRIx64,
                                  (unsigned)((env->psw.mask >> 44) & 3),
                                  env->regs[INSN_R1], env->regs[INSN_R2],
                                  env->regs[INSN_R2 + 1]);
}

static char *insn_get_result(Object *obj, Error **errp)
{
    return g_strdup(insn_result ? insn_result : "");
}

static void insn_get_fh(Object *obj, Visitor *v, const char *name,
                        void *opaque, Error **errp)
{
    uint32_t fh = S390_PCI_DEVICE(obj)->fh;

    visit_type_uint32(v, name, &fh, errp);
}

void vnest_zpci_insn_class_init(ObjectClass *oc)
{
    object_class_property_add_str(oc, "x-insn", NULL, insn_set);
    object_class_property_set_description(oc, "x-insn",
        "qtest only: run a zPCI instruction on CPU 0");
    object_class_property_add_str(oc, "x-insn-result", insn_get_result, NULL);
    object_class_property_add(oc, "x-fh", "uint32", insn_get_fh, NULL, NULL,
                              NULL);
}
