#ifndef PM_VERSION_H
#define PM_VERSION_H
#define PMILTER_VERSION "0.1.0"
#endif
