/*
 * Whole-register access for the CPU-state tests (see fpu_regs.h). Nothing
 * here depends on the C compiler's use of the FPU: every load and store of
 * the registers under test is one of these instructions.
 */
#define FX_SIZE 512

    .text
/* void fpu_regs_load(const struct fpu_regs *r, int avx) */
    .global fpu_regs_load
fpu_regs_load:
    fxrstor64 (%rdi)
    test %esi, %esi
    jz 1f
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vinsertf128 $1, FX_SIZE + 16 * \n(%rdi), %ymm\n, %ymm\n
    .endr
1:  ret

/* void fpu_regs_dump(struct fpu_regs *r, int avx) */
    .global fpu_regs_dump
fpu_regs_dump:
    fxsave64 (%rdi)
    test %esi, %esi
    jz 1f
    .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    vextractf128 $1, %ymm\n, FX_SIZE + 16 * \n(%rdi)
    .endr
1:  ret

/* void fpu_regs_hold(in, out, avx, wait, arg) */
    .global fpu_regs_hold
fpu_regs_hold:
    push %rbx
    push %r12
    push %r13
    push %r14
    sub $8, %rsp                        /* 16-byte aligned for the calls */
    mov %rsi, %rbx
    mov %edx, %r12d
    mov %rcx, %r13
    mov %r8, %r14
    mov %r12d, %esi
    call fpu_regs_load
    mov %r14, %rdi
    call *%r13
    mov %rbx, %rdi
    mov %r12d, %esi
    call fpu_regs_dump
    add $8, %rsp
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    ret

/* void fpu_regs_load_and_use(const struct fpu_regs *r, int avx) */
    .global fpu_regs_load_and_use
fpu_regs_load_and_use:
    call fpu_regs_load
    fstpt scratch(%rip)
    ret

/* int fpu_has_avx(void) */
    .global fpu_has_avx
fpu_has_avx:
    push %rbx
    mov $1, %eax
    xor %ecx, %ecx
    cpuid
    xor %eax, %eax
    bt $27, %ecx                        /* OSXSAVE: XGETBV works */
    jnc 1f
    bt $28, %ecx                        /* AVX */
    jnc 1f
    xor %ecx, %ecx
    xgetbv
    and $6, %eax                        /* XCR0: SSE and AVX state enabled */
    cmp $6, %eax
    sete %al
    movzbl %al, %eax
1:  pop %rbx
    ret

/* int64_t fpu_xinuse(void) */
    .global fpu_xinuse
fpu_xinuse:
    push %rbx
    mov $1, %eax
    xor %ecx, %ecx
    cpuid
    bt $27, %ecx
    jnc 2f
    mov $0xd, %eax
    mov $1, %ecx
    cpuid
    bt $2, %eax                         /* XGETBV with ECX = 1 */
    jnc 2f
    mov $1, %ecx
    xgetbv
    shl $32, %rdx
    or %rdx, %rax
    pop %rbx
    ret
2:  mov $-1, %rax
    pop %rbx
    ret

    .bss
    .align 16
scratch:
    .skip 16
