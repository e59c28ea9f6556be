/*
 * Namespace operations of the FAT32 core: mkdir, rmdir, unlink and rename.
 * Each orders its writes so an interrupted one leaves only what the repair
 * pass clears (see the comments on each and docs/storage.md).
 */
#include "fat_priv.h"

/* Entry template with the current time for something new. */
static void proto_new(struct fat_vol *v, uint8_t *proto, uint8_t attr, uint32_t cluster)
{
    uint16_t date, time;
    uint8_t tenth;
    memset(proto, 0, DE_SIZE);
    fat_now(v, &date, &time, &tenth);
    proto[DE_ATTR] = attr;
    proto[DE_CTIME_MS] = tenth;
    wr16(proto + DE_CTIME, time);
    wr16(proto + DE_CDATE, date);
    wr16(proto + DE_ADATE, date);
    wr16(proto + DE_MTIME, time);
    wr16(proto + DE_MDATE, date);
    de_set_cluster(proto, cluster);
}

/*
 * The new cluster with "." and ".." goes to the device first, then its FAT
 * entry, then the parent's entry (the commit order keeps it so): an
 * interrupted mkdir leaves at most a lost cluster.
 */
int fat_mkdir(struct fat_vol *v, const char *path)
{
    if (!v->mounted)
        return -E_INVAL;
    struct fat_path p;
    int rc = path_resolve(v, path, 0, &p);
    if (rc < 0)
        return rc;
    if (p.found)
        return -E_EXIST;
    rc = begin_op(v);
    if (rc < 0)
        return rc;
    uint32_t c, got;
    rc = alloc_find(v, 0, 1, &c, &got);
    if (rc < 0)
        return rc;
    uint8_t proto[DE_SIZE];
    proto_new(v, proto, FAT_ATTR_DIR, c);
    rc = dir_init_cluster(v, c, p.parent, proto);
    if (rc == 0)
        rc = fat_set(v, c, FAT_EOC);
    if (rc < 0)
        return rc;
    struct fat_dentry e;
    rc = dir_add(v, p.parent, v->name_a, p.name_len, proto, &e);
    if (rc < 0)
        fat_set(v, c, 0); /* nothing points at it yet */
    return rc;
}

/*
 * Removing: the entry goes first and is committed; only then are the
 * clusters freed (in the cache, written by a later commit). A crash in
 * between leaves lost clusters; and freed clusters are never reused while
 * a durable entry still points at them.
 */
static int remove_entry(struct fat_vol *v, const struct fat_path *p)
{
    uint32_t c = de_cluster(p->e.raw);
    int rc = dir_remove(v, p->parent, &p->e);
    if (rc == 0)
        rc = cache_commit(v);
    if (rc < 0) {
        v->needs_check = 1; /* the chain stays allocated until a repair */
        return rc;
    }
    return clu_valid(v, c) ? chain_free(v, c) : 0;
}

int fat_unlink(struct fat_vol *v, const char *path)
{
    if (!v->mounted)
        return -E_INVAL;
    struct fat_path p;
    int rc = path_resolve(v, path, 0, &p);
    if (rc < 0)
        return rc;
    if (p.is_root || (p.found && de_is_dir(p.e.raw)))
        return -E_ISDIR;
    if (!p.found)
        return -E_NOENT;
    if (node_find(v, p.e.sector, p.e.off) >= 0)
        return -E_BUSY;
    rc = begin_op(v);
    return rc < 0 ? rc : remove_entry(v, &p);
}

int fat_rmdir(struct fat_vol *v, const char *path)
{
    if (!v->mounted)
        return -E_INVAL;
    struct fat_path p;
    int rc = path_resolve(v, path, 0, &p);
    if (rc < 0)
        return rc;
    if (p.is_root)
        return -E_BUSY;
    if (!p.found)
        return -E_NOENT;
    if (!de_is_dir(p.e.raw))
        return -E_NOTDIR;
    if (node_find(v, p.e.sector, p.e.off) >= 0)
        return -E_BUSY;
    uint32_t c = de_cluster(p.e.raw);
    if (!clu_valid(v, c))
        return -E_CORRUPT;
    rc = dir_empty(v, c);
    if (rc <= 0)
        return rc < 0 ? rc : -E_NOTEMPTY;
    rc = begin_op(v);
    return rc < 0 ? rc : remove_entry(v, &p);
}

/* Points the ".." of directory c at parent (0 for the root). */
static int set_dotdot(struct fat_vol *v, uint32_t c, uint32_t parent)
{
    uint8_t *p;
    int s = cache_get(v, clu_sector(v, c), CG_READ, FK_DIR, &p);
    if (s < 0)
        return s;
    uint8_t *d = p + DE_SIZE;
    if (d[0] != '.' || d[1] != '.' || !de_is_dot(d))
        return 0; /* no ".." where it belongs: nothing to keep in step */
    de_set_cluster(d, parent == v->root ? 0 : parent);
    cache_dirty(v, s);
    return 0;
}

/*
 * The new entry (and a moved directory's "..") is committed before the
 * old entry goes: a crash in between leaves two entries sharing one chain,
 * and the repair keeps the first it meets; never none.
 */
int fat_rename(struct fat_vol *v, const char *from, const char *to)
{
    if (!v->mounted)
        return -E_INVAL;
    struct fat_path a, b;
    int rc = path_resolve(v, from, 0, &a);
    if (rc < 0)
        return rc;
    if (a.is_root)
        return -E_BUSY;
    if (!a.found)
        return -E_NOENT;
    int is_dir = de_is_dir(a.e.raw);
    uint32_t moved = de_cluster(a.e.raw);
    if (is_dir && !clu_valid(v, moved))
        return -E_CORRUPT;
    rc = path_resolve(v, to, is_dir ? moved : 0, &b);
    if (rc < 0)
        return rc;
    if (b.through)
        return -E_INVAL; /* a directory into itself */
    if (b.dir_only && !is_dir)
        return -E_NOTDIR;
    if (b.is_root)
        return -E_EXIST;
    if (b.found) {
        if (b.e.sector != a.e.sector || b.e.off != a.e.off)
            return -E_EXIST;
        /* The same entry: a change of case, or nothing at all. */
        if (b.e.name_len == b.name_len &&
            memcmp(v->name_b, v->name_a, b.name_len * sizeof(uint16_t)) == 0)
            return 0;
    }
    rc = begin_op(v);
    if (rc < 0)
        return rc;
    struct fat_dentry ne;
    rc = dir_add(v, b.parent, v->name_a, b.name_len, a.e.raw, &ne);
    if (rc == 0 && is_dir && b.parent != a.parent)
        rc = set_dotdot(v, moved, b.parent);
    if (rc == 0)
        rc = cache_commit(v);
    if (rc < 0) {
        v->needs_check = 1; /* the new entry may be there beside the old one */
        return rc;
    }
    rc = dir_remove(v, a.parent, &a.e);
    if (rc < 0) {
        v->needs_check = 1;
        return rc;
    }
    int i = node_find(v, a.e.sector, a.e.off);
    if (i >= 0) {
        v->node[i].ent_sector = ne.sector;
        v->node[i].ent_off = ne.off;
    }
    return 0;
}
