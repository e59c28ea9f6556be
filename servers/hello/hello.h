/*
 * The hello server's protocol: the smallest useful example of a Granite
 * server interface (docs/writing-a-server.md builds one like it).
 */
#ifndef HELLO_H
#define HELLO_H

#define HELLO_GREET 1 /* inline name (w0 = length, w2.. bytes) -> greeting inline, w1 = length */
#define HELLO_SHOUT                                                                                \
    2 /* text of any size (ipc_call_data) + w7 = write grant for the answer:                       \
         the text in capitals is copied back -> w0 = length */
#define HELLO_MIRROR                                                                               \
    3 /* w0..w7 -> w0..w7 in reverse order: a full 64-byte reply, without a                        \
         status word (SERVER_RAW) */

#endif
