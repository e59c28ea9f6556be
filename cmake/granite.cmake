# Build functions shared by the whole tree: freestanding targets, bootable
# ISOs and QEMU tests. Every ISO is GRUB 2 (i386-pc) made by grub-mkrescue.

set(GRANITE_INCLUDES ${GRANITE_ROOT}/include ${GRANITE_ROOT}/common/include)

# The C library (libc/): newlib built at build time into this sysroot. A
# second build tree may share the first one's (test/docs does).
set(GRANITE_LIBC_WORK ${CMAKE_BINARY_DIR}/libc CACHE PATH
    "where newlib's source is fetched and its sysroot built")
set(GRANITE_SYSROOT ${GRANITE_LIBC_WORK}/sysroot)
set(GRANITE_NEWLIB_LIBS ${GRANITE_SYSROOT}/lib/libc.a ${GRANITE_SYSROOT}/lib/libm.a)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
    OUTPUT_VARIABLE GRANITE_GCC_INCLUDE OUTPUT_STRIP_TRAILING_WHITESPACE)
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-libgcc-file-name
    OUTPUT_VARIABLE GRANITE_LIBGCC OUTPUT_STRIP_TRAILING_WHITESPACE)
set(GRANITE_QEMU_RUNNER ${GRANITE_ROOT}/test/qemu/run-qemu.sh)
set(GRANITE_ISO_DIR ${CMAKE_BINARY_DIR}/iso)

# Flags for freestanding targets are applied per target, so CMAKE_C_FLAGS
# (which host tests use) stay untouched.
function(granite_freestanding target kind)
    if(kind STREQUAL "kernel")
        target_compile_options(${target} PRIVATE ${GRANITE_KERNEL_FLAGS})
    elseif(kind STREQUAL "user-fpu")
        target_compile_options(${target} PRIVATE ${GRANITE_USER_FPU_FLAGS})
    else()
        target_compile_options(${target} PRIVATE ${GRANITE_USER_FLAGS})
    endif()
    # gcc may turn copy loops into calls to memcpy; inside memcpy that is a loop.
    target_compile_options(${target} PRIVATE -fno-tree-loop-distribute-patterns)
    target_include_directories(${target} PRIVATE ${GRANITE_INCLUDES})
endfunction()

# granite_iso(NAME name KERNEL kernel-target [CMDLINE "..."]
#             [MODULES "target|name|args" ...])
# A module's target may be "file:/path" for a plain file.
# Builds ${GRANITE_ISO_DIR}/<name>.iso with a grub.cfg that boots the kernel
# with multiboot2 and loads each module with module2. The kernel's symbol
# table always goes in as the module "ksyms".
function(granite_iso)
    cmake_parse_arguments(A "" "NAME;KERNEL;CMDLINE" "MODULES" ${ARGN})
    set(stage ${CMAKE_BINARY_DIR}/iso-stage/${A_NAME})
    set(iso ${GRANITE_ISO_DIR}/${A_NAME}.iso)
    set(cfg "set timeout=0\nset timeout_style=hidden\nset default=0\n")
    string(APPEND cfg "serial --unit=0 --speed=115200\nterminal_output serial\n")
    string(APPEND cfg "menuentry \"Granite ${A_NAME}\" {\n")
    string(APPEND cfg "    multiboot2 /boot/kernel.elf ${A_CMDLINE}\n")
    string(APPEND cfg "    module2 /boot/kernel.sym ksyms\n")
    set(copies COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:${A_KERNEL}> ${stage}/boot/kernel.elf
               COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_PROPERTY:${A_KERNEL},GRANITE_SYMS> ${stage}/boot/kernel.sym)
    set(deps ${A_KERNEL} ${A_KERNEL}-syms)
    foreach(m ${A_MODULES})
        string(REPLACE "|" ";" parts "${m}")
        list(GET parts 0 mtarget)
        list(GET parts 1 mname)
        list(LENGTH parts np)
        set(margs "")
        if(np GREATER 2)
            list(GET parts 2 margs)
        endif()
        string(APPEND cfg "    module2 /boot/${mname}.elf ${mname} ${margs}\n")
        if(mtarget MATCHES "^file:(.*)")
            # A plain file as a module (e.g. a corrupt executable for tests).
            list(APPEND copies COMMAND ${CMAKE_COMMAND} -E copy ${CMAKE_MATCH_1} ${stage}/boot/${mname}.elf)
            list(APPEND deps ${CMAKE_MATCH_1})
        else()
            list(APPEND copies COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:${mtarget}> ${stage}/boot/${mname}.elf)
            list(APPEND deps ${mtarget})
        endif()
    endforeach()
    string(APPEND cfg "    boot\n}\n")
    file(MAKE_DIRECTORY ${stage}/boot/grub ${GRANITE_ISO_DIR})
    # Written only when it changes (file(WRITE) would touch it on every
    # configure, and every ISO would be made again by each ./granite run).
    file(CONFIGURE OUTPUT ${stage}/boot/grub/grub.cfg.in CONTENT "${cfg}" @ONLY)
    add_custom_command(OUTPUT ${iso}
        COMMAND ${CMAKE_COMMAND} -E copy_if_different ${stage}/boot/grub/grub.cfg.in ${stage}/boot/grub/grub.cfg
        ${copies}
        COMMAND ${GRANITE_ROOT}/boot/mkiso.sh ${stage} ${iso}
        DEPENDS ${deps} ${GRANITE_ROOT}/boot/mkiso.sh ${stage}/boot/grub/grub.cfg.in
        COMMENT "Making ISO ${A_NAME}.iso"
        VERBATIM)
    add_custom_target(iso-${A_NAME} ALL DEPENDS ${iso})
endfunction()

# granite_kernel(target [DEFINES ...] [SOURCES ...]): a kernel image from the kernel
# sources, with its symbol table (<elf>.sym) for fault dumps.
function(granite_kernel target)
    cmake_parse_arguments(A "" "" "DEFINES;SOURCES" ${ARGN})
    add_executable(${target} ${GRANITE_KERNEL_SOURCES} ${A_SOURCES} $<TARGET_OBJECTS:common-kernel>)
    granite_freestanding(${target} kernel)
    target_include_directories(${target} PRIVATE ${GRANITE_ROOT}/kernel)
    target_compile_definitions(${target} PRIVATE ${A_DEFINES})
    set(ld ${GRANITE_ROOT}/kernel/arch/x86_64/kernel.ld)
    target_link_options(${target} PRIVATE ${GRANITE_LINK_FLAGS} -Wl,-T,${ld})
    set_target_properties(${target} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
    add_custom_command(TARGET ${target} POST_BUILD
        COMMAND grub-file --is-x86-multiboot2 $<TARGET_FILE:${target}>
        COMMENT "Checking that ${target} is a Multiboot2 image")
    set(sym ${CMAKE_CURRENT_BINARY_DIR}/${target}.sym)
    add_custom_command(OUTPUT ${sym}
        COMMAND sh -c "nm -n --defined-only $<TARGET_FILE:${target}> > ${sym}"
        DEPENDS ${target}
        COMMENT "Symbol table of ${target}"
        VERBATIM)
    add_custom_target(${target}-syms DEPENDS ${sym})
    set_target_properties(${target} PROPERTIES GRANITE_SYMS ${sym})
endfunction()

# granite_qemu_test(NAME test ISO iso [TIMEOUT s] [EXIT status]
#                   [EXPECT regex ...] [REJECT regex ...]
#                   [INPUT text ... INPUT_AFTER regex ...] [DISK_MIB n [DISK_FAT]]
#                   [DISK_IMAGE path] [HOST_CHECK script] [CPUS n])
# Boots the ISO under QEMU TCG with isa-debug-exit; passes when QEMU's exit
# status is EXIT (33 = the guest reported success) and every EXPECT line
# appears in the serial log (and no REJECT line does). DISK_MIB: a fresh
# virtio-blk disk of n MiB for each run (zeros; DISK_FAT: mkfs.fat -F 32).
# DISK_IMAGE: the disk at that path (made there with DISK_MIB, else used as
# it is: a later boot on an earlier test's disk). HOST_CHECK: a script run
# on the host afterwards with the disk image. CPUS: the guest's CPU count
# (otherwise GRANITE_CPUS, default 1).
function(granite_qemu_test)
    cmake_parse_arguments(A "DISK_FAT" "NAME;ISO;TIMEOUT;EXIT;DISK_MIB;DISK_IMAGE;HOST_CHECK;CPUS"
                          "EXPECT;REJECT;INPUT;INPUT_AFTER" ${ARGN})
    if(NOT A_TIMEOUT)
        set(A_TIMEOUT 60)
    endif()
    if(NOT A_EXIT)
        set(A_EXIT 33)
    endif()
    set(args --iso ${GRANITE_ISO_DIR}/${A_ISO}.iso --log ${CMAKE_BINARY_DIR}/test-logs/${A_NAME}.log
             --timeout ${A_TIMEOUT} --exit ${A_EXIT})
    if(A_DISK_MIB)
        list(APPEND args --disk-mib ${A_DISK_MIB})
        if(A_DISK_FAT)
            list(APPEND args --disk-fat)
        endif()
    endif()
    if(A_DISK_IMAGE)
        list(APPEND args --disk-image ${A_DISK_IMAGE})
    endif()
    if(A_HOST_CHECK)
        list(APPEND args --host-check ${A_HOST_CHECK})
    endif()
    foreach(e ${A_EXPECT})
        list(APPEND args --expect "${e}")
    endforeach()
    foreach(e ${A_REJECT})
        list(APPEND args --reject "${e}")
    endforeach()
    # INPUT and INPUT_AFTER are parallel lists: type INPUT[i] once a line
    # matching INPUT_AFTER[i] has appeared (after the previous step's).
    list(LENGTH A_INPUT ninputs)
    if(ninputs GREATER 0)
        math(EXPR last "${ninputs} - 1")
        foreach(i RANGE ${last})
            list(GET A_INPUT ${i} text)
            list(LENGTH A_INPUT_AFTER nafter)
            if(i LESS nafter)
                list(GET A_INPUT_AFTER ${i} after)
                list(APPEND args --input-after "${after}")
            endif()
            list(APPEND args --input "${text}")
        endforeach()
    endif()
    add_test(NAME ${A_NAME} COMMAND ${GRANITE_QEMU_RUNNER} ${args})
    set_tests_properties(${A_NAME} PROPERTIES TIMEOUT 600 LABELS qemu)
    # CPUS pins the guest's CPU count; otherwise GRANITE_CPUS from the
    # environment (default 1) applies, as for ./granite run.
    if(A_CPUS)
        set_tests_properties(${A_NAME} PROPERTIES ENVIRONMENT GRANITE_CPUS=${A_CPUS})
    endif()
endfunction()

# granite_program(name SOURCES ... [LIBS ...] [FPU]): a freestanding user
# program (static ELF linked with libipc and its freestanding C pieces at
# USER_IMAGE_MIN). FPU: its own code may use x87 and SSE
# (GRANITE_USER_FPU_FLAGS); libipc stays general-registers-only. Programs
# with the C library: granite_libc_program().
function(granite_program name)
    cmake_parse_arguments(A "FPU" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${A_SOURCES})
    if(A_FPU)
        granite_freestanding(${name} user-fpu)
    else()
        granite_freestanding(${name} user)
    endif()
    # The two halves of libipc need each other (printf -> console_write ->
    # memcpy), so they are searched as a group.
    target_link_libraries(${name} PRIVATE ${A_LIBS} -Wl,--start-group ipc ipc-freestanding
                                          -Wl,--end-group)
    set(ld ${GRANITE_ROOT}/libipc/user.ld)
    target_link_options(${name} PRIVATE ${GRANITE_LINK_FLAGS} -Wl,-T,${ld} -Wl,-u,_start)
    set_target_properties(${name} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
endfunction()

# granite_add_server(NAME name SOURCES ... [ARGS "module arguments"] [LIBS ...]
#                    [LIBC])
# Builds a server and adds it to the boot set of granite.iso: GRUB loads it
# as a module and the boot server starts it with ARGS (privileges, restart,
# priority; see docs/writing-a-server.md). LIBC: with the C library
# (granite_libc_program) instead of libipc's freestanding pieces.
function(granite_add_server)
    cmake_parse_arguments(A "LIBC" "NAME;ARGS" "SOURCES;LIBS" ${ARGN})
    if(A_LIBC)
        granite_libc_program(${A_NAME} SOURCES ${A_SOURCES} LIBS ${A_LIBS})
    else()
        granite_program(${A_NAME} SOURCES ${A_SOURCES} LIBS ${A_LIBS})
    endif()
    set_property(GLOBAL APPEND PROPERTY GRANITE_BOOT_SET "${A_NAME}|${A_NAME}|${A_ARGS}")
endfunction()

# granite_libc_target(target): compile target with the C library: newlib's
# headers (then Granite's additions in libc/include, then gcc's own), the
# normal x86-64 ABI with SSE, and after newlib is built.
function(granite_libc_target target)
    # gcc's own directory as an option: CMake drops it from include lists as
    # an implicit directory, and -nostdinc needs it named.
    target_compile_options(${target} PRIVATE ${GRANITE_LIBC_FLAGS} -isystem ${GRANITE_GCC_INCLUDE})
    target_include_directories(${target} SYSTEM BEFORE PRIVATE
        ${GRANITE_ROOT}/libc/include ${GRANITE_SYSROOT}/include)
    target_include_directories(${target} PRIVATE ${GRANITE_INCLUDES})
    add_dependencies(${target} newlib)
endfunction()

# granite_libc_program(name SOURCES ... [LIBS ...] [NOWARN]): a user program
# with the C library (newlib, libc/syscalls.c) and libipc, started by
# libc/crt0.S with main(argc, argv). NOWARN: third-party sources, built
# without -Werror.
function(granite_libc_program name)
    cmake_parse_arguments(A "NOWARN" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name} ${A_SOURCES})
    granite_libc_target(${name})
    if(NOT A_NOWARN)
        target_compile_options(${name} PRIVATE -Wall -Wextra -Werror)
    endif()
    target_link_libraries(${name} PRIVATE ${A_LIBS} -Wl,--start-group granite-libc ipc
                                          ${GRANITE_NEWLIB_LIBS} ${GRANITE_LIBGCC} -Wl,--end-group)
    set(ld ${GRANITE_ROOT}/libipc/user.ld)
    target_link_options(${name} PRIVATE ${GRANITE_LINK_FLAGS} -Wl,-T,${ld} -Wl,-u,_start)
    set_target_properties(${name} PROPERTIES SUFFIX ".elf" LINK_DEPENDS ${ld})
endfunction()
