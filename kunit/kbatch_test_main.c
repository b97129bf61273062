// SPDX-License-Identifier: GPL-2.0
/*
 * kbatch_test.ko: the KUnit suites of kbatch.  Each *_test.c file beside
 * this one registers its own suite; this file only names the module.
 */
#include <linux/module.h>

MODULE_DESCRIPTION("KUnit suites for kbatch");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);
