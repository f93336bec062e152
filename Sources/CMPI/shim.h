#pragma once
// OpenMPI through SwiftPM: <mpi.h> plus functions for the handles MPI defines as macros.
//
// In OpenMPI, MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, … are macros that take the address of a
// global object (`((MPI_Comm)&ompi_mpi_comm_world)`): Swift imports no such macro, so each is
// returned by a static inline function here. MPI_IN_PLACE is a macro cast of a small integer.
#include <mpi.h>

static inline MPI_Comm mf_mpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype mf_mpi_byte(void) { return MPI_BYTE; }
static inline MPI_Datatype mf_mpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype mf_mpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype mf_mpi_int32(void) { return MPI_INT32_T; }
static inline MPI_Datatype mf_mpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Op mf_mpi_sum(void) { return MPI_SUM; }
static inline MPI_Op mf_mpi_min(void) { return MPI_MIN; }
static inline MPI_Op mf_mpi_max(void) { return MPI_MAX; }
static inline void *mf_mpi_in_place(void) { return MPI_IN_PLACE; }
static inline MPI_Errhandler mf_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
