test_debugfs: test_debugfs.c co_test.h /work/main/uapi/linux/carveout.h \
 tap.h
co_test.h:
/work/main/uapi/linux/carveout.h:
tap.h:
