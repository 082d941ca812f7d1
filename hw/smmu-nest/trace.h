#include "trace/trace-vnest_hw_smmu_nest.h"
