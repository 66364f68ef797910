/* metrics_internal: what the registry and the endpoint share. */
#ifndef PM_METRICS_INTERNAL_H
#define PM_METRICS_INTERNAL_H

/* Label sets each custom metric may have; set at start. */
void pm_metrics_set_max_series(int n);

#endif
