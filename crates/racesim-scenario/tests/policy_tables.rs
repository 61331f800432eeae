//! The built-in policies are written as lock tables (policies/*.toml); each must mean exactly
//! the policy its field-by-field form (tests/fixtures/*.fields.toml) spells out.

use racesim_scenario::policy_file;
use std::path::Path;

#[test]
fn every_builtin_lock_table_means_its_field_form() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in racesim_kernel::policy::BUILTIN_POLICIES {
        let table = policy_file::builtin(name).unwrap();
        let fields = policy_file::load(&fixtures.join(format!("{name}.fields.toml"))).unwrap();
        assert_eq!(table, fields, "{name}");
    }
}

#[test]
fn a_lock_the_kernel_function_cannot_take_there_is_refused_naming_operation_and_phase() {
    let text = "name = \"odd\"\nbase = \"legacy\"\n[[lock]]\noperation = \"write fault\"\nphase = \"page_mkwrite\"\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\n";
    let error = policy_file::parse(text, "odd.toml").unwrap_err();
    assert!(
        error.message.contains("in operation write fault, phase page_mkwrite, the kernel function cannot take i_rwsem"),
        "{error}"
    );
    let twice = "name = \"twice\"\nbase = \"legacy\"\n[[lock]]\noperation = \"write\"\nphase = \"whole syscall\"\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"range\"\n[[lock]]\noperation = \"write\"\nphase = \"write_begin\"\nlock = \"range_lock\"\nmode = \"exclusive\"\nrange = \"page\"\n";
    let error = policy_file::parse(twice, "twice.toml").unwrap_err();
    assert!(error.message.contains("takes range_lock twice"), "{error}");
    let nowhere = "name = \"x\"\nbase = \"legacy\"\n[[lock]]\noperation = \"read\"\nphase = \"copy\"\nlock = \"i_rwsem\"\nmode = \"shared\"\nrange = \"file\"\n";
    assert!(policy_file::parse(nowhere, "x.toml").unwrap_err().message.contains("is not a point where"));
}
