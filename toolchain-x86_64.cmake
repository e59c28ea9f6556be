# Toolchain for Granite: the system gcc builds both the freestanding x86_64
# kernel/user images and the host unit tests. This file names the compiler and
# defines the flag sets; CMakeLists.txt applies them per target, so host tests
# in the same tree keep the normal hosted flags.

set(CMAKE_C_COMPILER gcc)
set(CMAKE_ASM_COMPILER gcc)

# Common to everything that runs on the Granite machine.
set(GRANITE_FREESTANDING_FLAGS
    -ffreestanding -nostdlib -fno-pic -fno-pie -fno-stack-protector
    -fno-asynchronous-unwind-tables -fno-builtin -fno-common
    -m64 -march=x86-64 -O2 -g
    -Wall -Wextra -Werror)

# Kernel: higher half (-2 GiB, hence mcmodel=kernel), no red zone because
# interrupts arrive on the current stack in ring 0, no SSE/x87: the kernel
# never touches the FPU registers except to save and restore a thread's.
set(GRANITE_KERNEL_FLAGS ${GRANITE_FREESTANDING_FLAGS}
    -mcmodel=kernel -mno-red-zone -mgeneral-regs-only -fno-omit-frame-pointer)

# User programs: low half, static, no libc. By default general registers
# only (libipc, the servers, most tests): a thread that never touches the
# FPU has no FPU state to switch and keeps the IPC fast path.
set(GRANITE_USER_FLAGS ${GRANITE_FREESTANDING_FLAGS}
    -mcmodel=small -mgeneral-regs-only)

# User programs that compute with floating point or SIMD (granite_program
# ... FPU): x87, SSE and SSE2 allowed (AVX through target attributes or
# inline assembly, where the CPU has it). The kernel gives each thread its
# own x87/SSE/AVX state from its first such instruction (docs/abi.md §8).
set(GRANITE_USER_FPU_FLAGS ${GRANITE_FREESTANDING_FLAGS}
    -mcmodel=small)

set(GRANITE_LINK_FLAGS
    -nostdlib -static -no-pie -Wl,-n -Wl,-z,max-page-size=0x1000
    -Wl,--build-id=none -Wl,-z,noexecstack)
