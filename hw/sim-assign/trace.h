#include "trace/trace-vnest_hw_sim_assign.h"
