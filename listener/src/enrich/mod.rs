//! What is added to a process beyond what the kernel's messages say: `/proc` ([`proc_info`]),
//! Docker's view of a container ([`docker`]), the paths of file descriptors ([`fd_paths`]), and
//! the start-up walk of the processes already running ([`snapshot`]).

pub mod docker;
pub mod fd_paths;
pub mod proc_info;
pub mod snapshot;
