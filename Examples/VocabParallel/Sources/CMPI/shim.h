// Open MPI's handles (MPI_COMM_WORLD, MPI_DOUBLE, MPI_MAX, …) are macros that cast the address of
// a global; Swift imports neither the macros nor the casts, so they are wrapped here.
#include <mpi.h>

static inline MPI_Comm xmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype xmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype xmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Op xmpi_max(void) { return MPI_MAX; }
static inline MPI_Op xmpi_sum(void) { return MPI_SUM; }
static inline void *xmpi_in_place(void) { return MPI_IN_PLACE; }
