#include "trace/trace-vnest_hw_vtd_nest.h"
