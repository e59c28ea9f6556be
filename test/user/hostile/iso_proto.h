/*
 * How hostile.isolation (the controller) drives its agents: one program
 * (iso_agent.c) started as the attacker and as the victim. An agent calls
 * its parent with ISO_READY and the results of its last order; the reply's
 * label is the next order, its words the arguments, and it may carry a
 * handle (the agent accepts one in that call).
 */
#ifndef ISO_PROTO_H
#define ISO_PROTO_H

#define ATTACKER_FRAMES 300 /* the attacker's kernel-frame budget */

/* clang-format off */
#define ISO_READY      1  /* agent -> controller: w1..w7 = results of the last order */

/* Orders (reply label) and their results (w1.. of the next ISO_READY). */
#define ISO_EXIT       1  /* end the process */
#define ISO_CHURN      2  /* w1 = cycles, w2 = pages: allocate and free, again and again
                             -> w1 our kernel frames before, w2 after, w3 failed cycles */
#define ISO_HOARD      3  /* take threads, then one-page allocations, until refused, and hold
                             them -> w1 threads, w2 the thread error, w3 pages, w4 the memory
                             error, w5 our kernel frames, w6 our kernel-frame budget */
#define ISO_WORK       4  /* w1 = rounds of thread, memory, name, hello and console requests
                             -> w1 rounds that all succeeded, w2 first error, w3 its step */
#define ISO_PUSH_CAPS  5  /* w1 = n: n name lookups and n calls to hello, each carrying a
                             handle to ourselves -> w1 lookups answered, w2 hello's calls
                             refused with -E_NOACCEPT, w3 hello's calls answered */
#define ISO_LOOKUP     6  /* w1..w3 = name: look it up and keep the handle -> w1 handle */
#define ISO_CALL_KEPT  7  /* call the kept handle (with a timeout) -> w1 status */
#define ISO_ACCEPT     8  /* receive one message accepting a handle -> w1 handle, w2 sender pid */
#define ISO_SEND_SELF  9  /* the order carried a handle: send a handle to ourselves through it
                             -> w1 status */
#define ISO_SERVE     10  /* w1 = ticks: answer every call for that long -> w1 calls received */
#define ISO_PRINT     11  /* one line through libipc's console client -> w1 its status */
#define ISO_NAME_RACE 12  /* w1 = ticks, w2..w4 = name: keep registering it and looking it up
                             -> w1 attempts, w2 accepted, w3 lookups, w4 lookups that did not
                             answer -E_AGAIN */
#define ISO_REGISTER  13  /* w1..w3 = name -> w1 status */
#define ISO_DELETE    14  /* w1 = handle: kc_cap_delete -> w1 status */
#define ISO_READERS   15  /* w1 = n threads each wait for a console line -> w1 of them refused
                             with -E_BUSY (the others wait on) */
#define ISO_READLINE  16  /* read one console line -> w1 status, w2..w7 the line */
#define ISO_NOISE     17  /* w1 = ticks: hammer every interface we can reach for that long
                             -> w1 requests made, w2 refused with an error, w3 accepted,
                             w4 errors outside the ABI, w5 threads started */
/* clang-format on */

#endif
