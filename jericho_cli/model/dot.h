/* Shared by the compiled CPU kernels (scan.c, step.c). */
#pragma once

/* A dot product in 8 interleaved partial sums: vectorizes without -ffast-math (no reassociation the
 * source does not write), and the order of additions is fixed, so results are deterministic. */
static inline float dot(const float *x, const float *y, long n) {
    float part[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) part[k] += x[i + k] * y[i + k];
    float s = ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
    for (; i < n; i++) s += x[i] * y[i];
    return s;
}
