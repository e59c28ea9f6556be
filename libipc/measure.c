/*
 * Sorting samples (see ipc/measure.h): Shell sort, no recursion and no
 * allocation, fast enough for the few thousand batches a figure has.
 */
#include <ipc/measure.h>

void measure_sort(uint32_t *a, int n)
{
    for (int gap = n / 2; gap > 0; gap /= 2)
        for (int i = gap; i < n; i++)
            for (int j = i; j >= gap && a[j - gap] > a[j]; j -= gap) {
                uint32_t t = a[j];
                a[j] = a[j - gap];
                a[j - gap] = t;
            }
}
