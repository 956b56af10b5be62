/* spandsp DTMF receiver over raw 8 kHz s16le files: one line per file,
 * "<file>\t<digits>\t<cpu seconds>\t<audio seconds>". Bench-only; not part of the workspace build.
 * Build: cc -O2 -o spandsp_rx spandsp_rx.c -lspandsp */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <inttypes.h>
#include <spandsp.h>

int main(int argc, char **argv) {
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "rb");
        if (!f) { perror(argv[a]); return 1; }
        fseek(f, 0, SEEK_END);
        long bytes = ftell(f);
        fseek(f, 0, SEEK_SET);
        int16_t *pcm = malloc(bytes + 2);
        size_t n = fread(pcm, 2, bytes / 2, f);
        fclose(f);
        /* 1 s of trailing silence so that a digit at the very end is reported */
        int16_t silence[8000];
        memset(silence, 0, sizeof silence);
        char digits[4096];
        size_t got = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
        dtmf_rx_state_t *rx = dtmf_rx_init(NULL, NULL, NULL);
        for (size_t i = 0; i < n; i += 160) {
            int len = (n - i) < 160 ? (int) (n - i) : 160;
            dtmf_rx(rx, pcm + i, len);
        }
        dtmf_rx(rx, silence, 8000);
        got = dtmf_rx_get(rx, digits, sizeof digits - 1);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
        digits[got] = 0;
        dtmf_rx_free(rx);
        double cpu = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
        printf("%s\t%s\t%.6f\t%.3f\n", argv[a], digits, cpu, n / 8000.0);
        free(pcm);
    }
    return 0;
}
