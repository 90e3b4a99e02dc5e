/* SPDX-License-Identifier: GPL-2.0 */
/*
 * carveout_heap's export, for carveout: how many heaps it has registered.
 * carveout reaches it only through symbol_get() (INFO's
 * CARVEOUT_CAP_DMA_HEAP), so neither module depends on the other.
 */
#ifndef _CARVEOUT_CO_HEAP_H
#define _CARVEOUT_CO_HEAP_H

unsigned int carveout_heap_count(void);

#endif /* _CARVEOUT_CO_HEAP_H */
