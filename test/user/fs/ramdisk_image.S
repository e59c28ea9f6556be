/* The ramdisk's initial contents (ramdisk-image.sh), linked in read-only. */
    .section .rodata
    .balign 16
    .globl ramdisk_image
ramdisk_image:
    .incbin RAMDISK_IMAGE
    .globl ramdisk_image_end
ramdisk_image_end:
    .section .note.GNU-stack, "", @progbits
