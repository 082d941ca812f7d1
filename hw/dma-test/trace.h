#include "trace/trace-vnest_hw_dma_test.h"
