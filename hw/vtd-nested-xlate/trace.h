#include "trace/trace-vnest_hw_vtd_nested_xlate.h"
