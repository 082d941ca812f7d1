#include "trace/trace-vnest_backends.h"
