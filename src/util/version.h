/*
 * version.h - Baton's release version (`baton --version`, /metrics'
 * baton_build_info).
 */
#ifndef BT_VERSION_H
#define BT_VERSION_H

#define BATON_VERSION "0.1.0"

#endif
