/*
 * Stack switching helpers used by the kernel proper.
 */
    .text
/* void vm_run_on_stack(uint64_t top, void (*fn)(void)): never returns. */
    .global vm_run_on_stack
vm_run_on_stack:
    mov %rdi, %rsp
    xor %ebp, %ebp
    call *%rsi
    ud2
