#include "trace/trace-vnest_hw_zpci_iommufd.h"
